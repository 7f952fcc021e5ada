//! Application state. Rendering reads it; only `update` writes it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

pub use super::store::{RowStore, SourceRows};
use crate::backend::StreamId;
use crate::config::Settings;
use crate::logs::{LogBuffer, Matcher};
use crate::model::{
    ColumnKind, LogOpts, Resource, ResourceAction, ResourceKey, ResourceKind, SourceId,
    SourceStatus, StatsSample,
};

/// Samples kept for the stats sparkline.
pub const STATS_HISTORY: usize = 60;

pub struct AppState {
    pub settings: Settings,
    pub read_only: bool,
    pub sources: BTreeMap<SourceId, SourceStatus>,
    /// The rows of every kind, per source: the latest snapshot with the changes since applied.
    pub data: HashMap<ResourceKind, SourceRows>,
    /// Why a source cannot list a kind at all ("This node is not a swarm manager…").
    pub unavailable: HashMap<(SourceId, ResourceKind), String>,
    /// Lists shown although not complete (loading, or a page failed): the view says so.
    pub incomplete: HashMap<(SourceId, ResourceKind), ListNote>,
    /// Rollouts this console drives, per source: quitting asks first while there are any.
    pub work: HashMap<SourceId, Vec<crate::model::Work>>,
    /// Watches whose first list has not arrived: the view says `loading…`, then no answer.
    pub awaiting: HashMap<(SourceId, ResourceKind), super::waiting::FirstList>,
    /// Navigation stack; never empty. Esc pops, Enter/l/d push.
    pub stack: Vec<View>,
    pub mode: Mode,
    pub toast: Option<Toast>,
    pub stats: Option<StatsView>,
    pub next_stream: StreamId,
    /// (key path, failures) pairs whose passphrase was already asked for.
    pub asked_passphrases: std::collections::HashSet<(String, u32)>,
    /// Passphrase questions not asked yet: they came while another dialog was open.
    pub waiting_passphrases: Vec<crate::model::PassphraseNeeded>,
    /// Refusals (read-only mode) found where no effect list is at hand; `update` emits them.
    pub pending_refusals: Vec<(ResourceKey, String, ResourceAction)>,
    /// What happened across every source (`:timeline`), bounded.
    pub timeline: crate::timeline::Timeline,
    pub quit: bool,
    /// Open problems across sources, kept from the row stores (`:triage`, the header badge).
    pub triage: crate::triage::Triage,
    /// Which problems were already told (a new one toasts once, see `triage::announce`).
    pub announcer: crate::triage::announce::Announcer,
    /// The `:kind` jumps (`[`, `]`, `-`).
    pub history: super::history::History,
    /// Tab in the command bar: what was typed before cycling, and the completion shown.
    pub completing: Option<(String, usize)>,
    /// The kinds the configured sources list; `None` until the runtime knows them (a kind no
    /// source lists says "no Kubernetes source configured", not "no pods").
    pub served: Option<Vec<ResourceKind>>,
    /// Something visible changed since the last frame.
    pub dirty: bool,
}

pub enum View {
    Table(TableView),
    Logs(Box<LogView>),
    Describe(DescribeView),
}

impl View {
    pub fn title(&self) -> String {
        match self {
            View::Table(t) => match &t.parent {
                Some(p) => format!("{}({p})", t.kind.spec().title),
                None => t.kind.spec().title.to_string(),
            },
            View::Logs(l) => format!("Logs({})", l.title),
            View::Describe(d) => format!("Describe({})", d.title),
        }
    }
}

/// Why a shown list is not the complete current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListNote {
    pub text: String,
    /// More rows are on their way (a long first load); otherwise the listing failed.
    pub loading: bool,
}

/// A text input line (command bar, filter, search, save path).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Input {
    pub text: String,
}

pub enum Mode {
    Normal,
    Command(Input),
    /// Typing a table filter; applied live.
    Filter(Input),
    /// Typing a log search.
    Search(Input),
    /// Typing the file name the log buffer is saved to.
    SavePath(Input),
    Confirm(Confirm),
    /// Asking for an action's argument (the replica count of a scale).
    Prompt(Prompt),
    Help {
        scroll: u16,
    },
    /// Choosing one of several options (a device's sandboxes).
    Pick(Picker),
    /// A secret answer (a key passphrase); drawn masked.
    Secret(SecretPrompt),
    /// Confirming a fleet command on one or more devices.
    ConfirmRun(RunConfirm),
    /// Quitting while this console drives rollouts: leave them running, abort them, or stay.
    ConfirmQuit(Vec<crate::model::Work>),
}

/// A list dialog; Enter opens a shell on `key` with the chosen option as `DEVICE/OPTION`.
pub struct Picker {
    pub key: ResourceKey,
    pub name: String,
    pub title: String,
    pub options: Vec<String>,
    pub selected: usize,
}

/// Asks the passphrase of an SSH key a device needs.
pub struct SecretPrompt {
    pub key_path: String,
    pub input: Input,
}

/// `:run CMD` waiting for y/n.
pub struct RunConfirm {
    pub targets: Vec<(ResourceKey, String)>,
    pub command: String,
}

pub struct Confirm {
    pub key: ResourceKey,
    pub name: String,
    pub action: ResourceAction,
    /// For actions that need the object's name typed (removing a stack): what was typed so far.
    pub typed: Option<Input>,
    /// A line the operator needs to decide (the host key fingerprint being trusted).
    pub detail: Option<String>,
    /// More objects the same action is for, done after `key` once confirmed (`c` on a filtered
    /// table commits every held device it shows).
    pub also: Vec<(ResourceKey, String)>,
}

/// A one-field dialog whose answer completes an action.
pub struct Prompt {
    pub key: ResourceKey,
    pub name: String,
    /// What the dialog asks, e.g. "Replicas for web (now 3/3)".
    pub question: String,
    pub input: Input,
    /// An error for the last submitted answer ("not a number").
    pub error: Option<String>,
    /// What the answer is for.
    pub purpose: PromptFor,
}

/// What a [`Prompt`]'s answer does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PromptFor {
    /// A replica count for `Prompt::key`.
    #[default]
    Scale,
    /// An artifact name deployed to these Mender devices (`ResourceKey::id`s of one source).
    Deployment(Vec<String>),
    /// An update over SSH of these fleet devices (`ResourceKey::id`s of one source): the answer
    /// is the artifact (URL or local file) plus `-p N` / `-f K|X%` options.
    Update(Vec<String>),
    /// A port forward to `Prompt::key`: `PORT` or `LOCAL:PORT` (src/backend/forward.rs).
    Forward,
}

pub struct Toast {
    pub text: String,
    pub error: bool,
    pub until: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sort {
    pub column: usize,
    pub descending: bool,
}

pub struct TableView {
    pub kind: ResourceKind,
    /// Set when drilled in from a parent row: only rows whose `parent` equals it are shown.
    pub parent: Option<String>,
    pub filter: Option<(String, Matcher)>,
    pub sort: Sort,
    /// Visible rows after parent filter, text filter and sort: recomputed on change, not per frame.
    pub rows: Vec<Arc<Resource>>,
    pub selected: usize,
    /// The selected object, so selection follows the row across snapshots and re-sorts.
    pub selected_key: Option<ResourceKey>,
    pub offset: usize,
    /// Horizontal scroll by column (←/→): 0 shows the columns that fit by priority, `k`
    /// the pinned name and the other columns from the `k`-th on (ui/columns.rs).
    pub hscroll: usize,
    /// Columns off screen at the last draw, left and right (the "◂ 3 more ▸" hint).
    pub off_screen: (usize, usize),
    /// Sources with rows of this kind at the last refresh: from two on, a SOURCE column says
    /// where each row lives (rows of two engines are never silently merged).
    pub sources: usize,
}

impl TableView {
    pub fn new(kind: ResourceKind, parent: Option<String>) -> Self {
        TableView {
            kind,
            parent,
            filter: None,
            sort: Sort::default(),
            rows: Vec::new(),
            selected: 0,
            selected_key: None,
            offset: 0,
            hscroll: 0,
            off_screen: (0, 0),
            sources: 0,
        }
    }

    /// The columns on screen: the kind's, and SOURCE when rows come from several sources
    /// ([`crate::model::ResourceKind::columns_for`]).
    pub fn columns(&self) -> std::borrow::Cow<'static, [crate::model::Column]> {
        self.kind.columns_for(self.sources)
    }

    pub fn selected_row(&self) -> Option<&Arc<Resource>> {
        self.rows.get(self.selected)
    }

    /// Rebuild `rows` from the data of all sources, keeping the selection on the same object:
    /// a new list, a new filter or a new sort. A batch of changes is applied in place instead
    /// (`TableView::apply`, app/table_changes.rs).
    pub fn refresh(&mut self, data: Option<&SourceRows>, now: jiff::Timestamp) {
        let mut rows: Vec<Arc<Resource>> = data
            .into_iter()
            .flat_map(|m| m.values())
            .flatten()
            .filter(|r| self.shows(r, now))
            .cloned()
            .collect();
        sort_rows(&mut rows, self.kind, self.sort, now);
        self.rows = rows;
        self.sources = source_count(data);
        self.reselect();
    }

    /// The row passes the drill-down parent and the text filter.
    pub fn shows(&self, r: &Resource, now: jiff::Timestamp) -> bool {
        (self.parent.is_none() || r.parent == self.parent)
            && match &self.filter {
                Some((_, m)) => row_matches(r, m, now),
                None => true,
            }
    }

    fn reselect(&mut self) {
        if let Some(key) = &self.selected_key
            && let Some(i) = self.rows.iter().position(|r| &r.key == key)
        {
            self.selected = i;
        }
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        self.selected_key = self.rows.get(self.selected).map(|r| r.key.clone());
    }

    pub fn select(&mut self, index: usize) {
        self.selected = index.min(self.rows.len().saturating_sub(1));
        self.selected_key = self.rows.get(self.selected).map(|r| r.key.clone());
    }
}

/// Sources with rows: from two on, a table shows a SOURCE column.
pub fn source_count(data: Option<&SourceRows>) -> usize {
    data.map_or(0, |m| m.values().filter(|v| !v.is_empty()).count())
}

fn row_matches(r: &Resource, m: &Matcher, now: jiff::Timestamp) -> bool {
    m.is_match(&r.name)
        || m.is_match(r.key.source.as_str())
        || (0..r.key.kind.spec().columns.len()).any(|i| m.is_match(&r.cell(i, now)))
        || r.labels.iter().any(|(k, v)| m.is_match(k) || m.is_match(v))
}

/// Leading number of a cell ("12", "3/4", "1.5GB" → 1.5 with unit scaling for sizes).
fn numeric(cell: &str) -> f64 {
    let end = cell
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(cell.len());
    let n: f64 = cell[..end].parse().unwrap_or(f64::NEG_INFINITY);
    let unit = cell[end..].trim_start().to_ascii_lowercase();
    let scale = match unit.chars().next() {
        Some('k') => 1e3,
        Some('m') if unit.starts_with("mb") || unit.starts_with("mib") => 1e6,
        Some('g') => 1e9,
        Some('t') => 1e12,
        _ => 1.0,
    };
    n * scale
}

pub fn sort_rows(rows: &mut [Arc<Resource>], kind: ResourceKind, sort: Sort, now: jiff::Timestamp) {
    let order = RowOrder::new(kind, sort, now);
    rows.sort_by(|a, b| order.cmp(a, b));
}

/// A table's row order: the sort column, then (triage) newest, then name, then key, so no two
/// rows compare equal. Written once for the whole sort (`sort_rows`) and for the binary
/// searches that keep a sorted table current under changes (`app::table_changes`).
#[derive(Debug, Clone, Copy)]
pub struct RowOrder {
    kind: ResourceKind,
    sort: Sort,
    col: usize,
    column_kind: ColumnKind,
    now: jiff::Timestamp,
}

impl RowOrder {
    pub fn new(kind: ResourceKind, sort: Sort, now: jiff::Timestamp) -> Self {
        let columns = kind.spec().columns;
        let col = sort.column.min(columns.len().saturating_sub(1));
        let column_kind = columns.get(col).map(|c| c.kind).unwrap_or(ColumnKind::Text);
        RowOrder {
            kind,
            sort,
            col,
            column_kind,
            now,
        }
    }

    pub fn cmp(&self, a: &Resource, b: &Resource) -> std::cmp::Ordering {
        let (col, now) = (self.col, self.now);
        let ord = match self.column_kind {
            // Newest first reads naturally for ages, like `docker ps`.
            ColumnKind::Age => b.created.cmp(&a.created),
            ColumnKind::Number => numeric(&a.cell(col, now)).total_cmp(&numeric(&b.cell(col, now))),
            ColumnKind::Text => natural_cmp(&a.cell(col, now), &b.cell(col, now)),
        };
        // Triage: worst first, then newest.
        let newest = |kind| match kind {
            ResourceKind::Triage => b.created.cmp(&a.created),
            _ => std::cmp::Ordering::Equal,
        };
        let ord = ord
            .then_with(|| newest(self.kind))
            .then_with(|| natural_cmp(&a.name, &b.name));
        if self.kind == ResourceKind::Task {
            // A swarm slot's tasks (one NAME) newest first whichever way the table sorts, like
            // `docker service ps`: the running task above the failed ones it replaced.
            let ord = if self.sort.descending {
                ord.reverse()
            } else {
                ord
            };
            return ord
                .then_with(|| b.created.cmp(&a.created))
                .then_with(|| a.key.cmp(&b.key));
        }
        let ord = ord.then_with(|| a.key.cmp(&b.key));
        if self.sort.descending {
            ord.reverse()
        } else {
            ord
        }
    }
}

/// Case-insensitive compare where digit runs compare as numbers: web-2 < web-10.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let ea = a
                    .iter()
                    .position(|c| !c.is_ascii_digit())
                    .unwrap_or(a.len());
                let eb = b
                    .iter()
                    .position(|c| !c.is_ascii_digit())
                    .unwrap_or(b.len());
                let (na, nb) = (trim_zeros(&a[..ea]), trim_zeros(&b[..eb]));
                let ord = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[ea..];
                b = &b[eb..];
            }
            (Some(x), Some(y)) => {
                let ord = x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase());
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let i = s.iter().position(|&c| c != b'0').unwrap_or(s.len());
    &s[i..]
}

/// History choices cycled by `since_cycle`.
pub const SINCE_STEPS: &[(Option<u64>, &str)] = &[
    (None, "tail"),
    (Some(60), "1m"),
    (Some(300), "5m"),
    (Some(900), "15m"),
    (Some(3600), "1h"),
    (Some(0), "all"),
];

pub struct LogView {
    pub title: String,
    pub target: ResourceKey,
    pub stream: StreamId,
    pub opts: LogOpts,
    pub since_step: usize,
    pub buffer: LogBuffer,
    /// Keep the newest line in view.
    pub follow: bool,
    /// Display frozen: new lines are held in `held` until resumed.
    pub paused: bool,
    /// As compact as the ring and as long: lines held beyond it would be dropped on resume.
    pub held: LogBuffer,
    pub timestamps: bool,
    pub wrap: bool,
    /// Index (into the displayed lines) of the top line when not following.
    pub top: usize,
    pub hscroll: u16,
    pub search: Option<(String, Matcher)>,
    /// Buffer index of the current search match.
    pub current_match: Option<usize>,
    pub matches_only: bool,
    /// Why the stream ended, when it did.
    pub ended: Option<String>,
    /// Why a followed stream waits without having ended ("web-1 stopped, waiting for it to
    /// start"), from `BackendEvent::LogNote`.
    pub note: Option<String>,
    /// Colour index of each source prefix, in order of first appearance.
    pub prefixes: HashMap<Arc<str>, usize>,
    /// Lines the viewport showed at the last draw (for paging).
    pub page: usize,
}

impl LogView {
    pub fn new(
        title: String,
        target: ResourceKey,
        stream: StreamId,
        opts: LogOpts,
        capacity: usize,
    ) -> Self {
        LogView {
            title,
            target,
            stream,
            opts,
            since_step: 0,
            buffer: LogBuffer::new(capacity),
            follow: true,
            paused: false,
            held: LogBuffer::new(capacity),
            timestamps: false,
            wrap: false,
            top: 0,
            hscroll: 0,
            search: None,
            current_match: None,
            matches_only: false,
            ended: None,
            note: None,
            prefixes: HashMap::new(),
            page: 20,
        }
    }

    /// Buffer indices of the lines that are displayed (all, or only matches).
    pub fn displayed(&self) -> Vec<usize> {
        match (&self.search, self.matches_only) {
            (Some((_, m)), true) => (0..self.buffer.len())
                .filter(|&i| self.buffer.get(i).is_some_and(|l| m.is_match(l.text)))
                .collect(),
            _ => (0..self.buffer.len()).collect(),
        }
    }
}

pub struct DescribeView {
    pub title: String,
    pub key: ResourceKey,
    pub text: Option<Result<String, String>>,
    pub scroll: u16,
}

pub struct StatsView {
    pub key: ResourceKey,
    pub latest: Option<StatsSample>,
    /// CPU % and memory bytes, oldest first.
    pub cpu: std::collections::VecDeque<u64>,
    pub mem: std::collections::VecDeque<u64>,
}

/// The view the console opens on: `start_view` (validated when the config loaded; `--view`
/// sets it), else containers, or devices on a machine without Docker (`docker: false`).
fn start_kind(config: &crate::config::Config) -> ResourceKind {
    match config
        .start_view
        .as_deref()
        .and_then(ResourceKind::from_alias)
    {
        Some(kind) => kind,
        None if config.docker.off => ResourceKind::Device,
        None => ResourceKind::Container,
    }
}

impl AppState {
    pub fn new(settings: Settings, read_only: bool) -> Self {
        let read_only = read_only || settings.config.read_only;
        let start = start_kind(&settings.config);
        AppState {
            settings,
            read_only,
            sources: BTreeMap::new(),
            data: HashMap::new(),
            unavailable: HashMap::new(),
            incomplete: HashMap::new(),
            work: HashMap::new(),
            awaiting: HashMap::new(),
            stack: vec![View::Table(TableView::new(start, None))],
            mode: Mode::Normal,
            toast: None,
            stats: None,
            next_stream: 1,
            asked_passphrases: Default::default(),
            waiting_passphrases: Vec::new(),
            pending_refusals: Vec::new(),
            timeline: Default::default(),
            quit: false,
            triage: Default::default(),
            announcer: Default::default(),
            history: super::history::History::new(super::history::ViewMemo::new(start)),
            completing: None,
            served: None,
            dirty: true,
        }
    }

    // The stack is never empty: it starts with one view and `pop` keeps the last one.
    #[allow(clippy::expect_used, reason = "an invariant of the view stack")]
    pub fn top(&self) -> &View {
        self.stack.last().expect("stack never empty")
    }

    #[allow(clippy::expect_used, reason = "an invariant of the view stack")]
    pub fn top_mut(&mut self) -> &mut View {
        self.stack.last_mut().expect("stack never empty")
    }

    /// Kinds whose watches must run: every table in the navigation stack, and the triage
    /// kinds when triage is open or its badge is watched always.
    pub fn wanted_kinds(&self) -> Vec<ResourceKind> {
        let mut kinds = self.viewed_kinds();
        if self.settings.config.triage.watch_always {
            kinds.extend_from_slice(crate::triage::KINDS);
            kinds.sort();
            kinds.dedup();
        }
        kinds
    }

    /// The kinds the navigation stack shows (with triage's when triage is in it).
    pub fn viewed_kinds(&self) -> Vec<ResourceKind> {
        let mut kinds: Vec<ResourceKind> = self
            .stack
            .iter()
            .filter_map(|v| {
                if let View::Table(t) = v {
                    Some(t.kind)
                } else {
                    None
                }
            })
            .collect();
        if kinds.contains(&ResourceKind::Triage) {
            kinds.extend_from_slice(crate::triage::KINDS);
        }
        kinds.sort();
        kinds.dedup();
        kinds
    }

    /// A watch of `kind` on `source` started: until its first list arrives, its rows are
    /// unknown, not absent.
    pub fn watch_started(&mut self, source: SourceId, kind: ResourceKind, endpoint: String) {
        self.awaiting
            .insert((source, kind), super::waiting::FirstList::new(endpoint));
        self.dirty = true;
    }

    /// What the view of `kind` says about sources that have not answered its list yet:
    /// (source, note), for sources with no rows of `kind` at all.
    pub fn first_list_notes(&self, kind: ResourceKind, now: Instant) -> Vec<(SourceId, ListNote)> {
        let known = self.data.get(&kind);
        let mut notes: Vec<(SourceId, ListNote)> = self
            .awaiting
            .iter()
            .filter(|((src, k), _)| {
                *k == kind
                    && known.is_none_or(|m| !m.contains_key(src))
                    && !self.unavailable.contains_key(&(src.clone(), kind))
                    && !self.incomplete.contains_key(&(src.clone(), kind))
            })
            .map(|((src, _), f)| {
                // A source that failed says why at once (the header says it too).
                let note = match self.sources.get(src) {
                    Some(SourceStatus::Reconnecting { error, .. }) => ListNote {
                        text: error.clone(),
                        loading: false,
                    },
                    _ => f.note(now),
                };
                (src.clone(), note)
            })
            .collect();
        notes.sort_by(|a, b| a.0.cmp(&b.0));
        notes
    }

    pub fn toast(&mut self, text: impl Into<String>, error: bool) {
        let secs = if error { 8 } else { 4 };
        self.toast = Some(Toast {
            text: text.into(),
            error,
            until: Instant::now() + std::time::Duration::from_secs(secs),
        });
        self.dirty = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_puts_2_before_10() {
        let mut v = vec!["web-10", "web-2", "Web-1", "api"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, vec!["api", "Web-1", "web-2", "web-10"]);
    }

    #[test]
    fn a_swarm_slots_tasks_are_newest_first_either_way() {
        let task = |id: &str, name: &str, state: &str, secs: i64| {
            let mut cells = vec![String::new(); ResourceKind::Task.spec().columns.len()];
            cells[0] = name.into();
            cells[2] = state.into();
            Arc::new(Resource {
                key: crate::model::ResourceKey {
                    source: crate::model::SourceId::new("docker:local"),
                    kind: ResourceKind::Task,
                    id: id.into(),
                },
                name: name.into(),
                parent: None,
                health: Default::default(),
                cells,
                created: Some(jiff::Timestamp::from_second(1_800_000_000 + secs).unwrap()),
                labels: Default::default(),
                facts: Default::default(),
            })
        };
        // API order: ids say nothing about time.
        let mut rows = vec![
            task("a", "api.1", "failed", 10),
            task("b", "api.1", "running", 30),
            task("c", "api.1", "failed", 20),
            task("d", "api.2", "running", 5),
        ];
        let now = jiff::Timestamp::now();
        for descending in [false, true] {
            let sort = Sort {
                column: 0,
                descending,
            };
            sort_rows(&mut rows, ResourceKind::Task, sort, now);
            let order: Vec<&str> = rows.iter().map(|r| r.key.id.as_str()).collect();
            let slot1: Vec<&str> = order.iter().copied().filter(|i| *i != "d").collect();
            assert_eq!(
                slot1,
                ["b", "c", "a"],
                "newest first (descending {descending})"
            );
        }
    }

    #[test]
    fn numeric_cells_scale_units() {
        assert!(numeric("1.5GB") > numeric("900MB"));
        assert!(numeric("3/4") > numeric("2/4"));
        assert_eq!(numeric(""), f64::NEG_INFINITY);
    }
}
