//! The view the console was left on (kind, filter, sort), remembered per set of sources in the
//! XDG state dir (`<state_dir>/last-view.json`) and restored at the next start, as k9s keeps the
//! last view per context. `--view` and `start_view:` win over it.
//!
//! Best effort by design: a missing, unreadable or malformed file is a log line, never a reason
//! not to start; a failed save is a log line at exit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::history::ViewMemo;
use super::state::{AppState, View};
use crate::model::SourceId;

/// `<state_dir>/last-view.json`.
pub fn file() -> PathBuf {
    crate::config::paths::state_dir().join("last-view.json")
}

/// The key a view is remembered under: the console's sources, sorted (`docker:local,fleet:lab`),
/// so a console started with other sources (another fleet, a kube context) keeps its own.
pub fn sources_key<'a>(sources: impl IntoIterator<Item = &'a SourceId>) -> String {
    let mut ids: Vec<&str> = sources.into_iter().map(|s| s.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.join(",")
}

type Memos = BTreeMap<String, ViewMemo>;

fn read(path: &Path) -> Memos {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Memos::new(),
        Err(e) => {
            tracing::warn!("last view: cannot read {}: {e} (ignored)", path.display());
            return Memos::new();
        }
    };
    // One bad entry (a kind a newer version wrote) must not lose the others.
    let raw: BTreeMap<String, serde_json::Value> = match serde_json::from_str(&text) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!("last view: {} is malformed: {e} (ignored)", path.display());
            return Memos::new();
        }
    };
    raw.into_iter()
        .filter_map(|(k, v)| match serde_json::from_value::<ViewMemo>(v) {
            Ok(m) => Some((k, m)),
            Err(e) => {
                tracing::warn!("last view: entry `{k}` ignored: {e}");
                None
            }
        })
        .collect()
}

/// The view remembered for `key`, if any.
pub fn load(path: &Path, key: &str) -> Option<ViewMemo> {
    read(path).remove(key)
}

/// Remember `memo` for `key` beside the other keys' views (temp file, then rename: a crash
/// mid-write leaves the old file).
pub fn save(path: &Path, key: &str, memo: &ViewMemo) -> std::io::Result<()> {
    let mut all = read(path);
    all.insert(key.to_string(), memo.clone());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(&all).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// The root view the console shows now (the bottom of the view stack: the `:kind` jumped to).
pub fn current(state: &AppState) -> Option<ViewMemo> {
    let View::Table(t) = state.stack.first()? else {
        return None;
    };
    Some(ViewMemo {
        kind: t.kind,
        filter: t.filter.as_ref().map(|(s, _)| s.clone()),
        sort_column: t.sort.column,
        sort_descending: t.sort.descending,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ResourceKind;

    #[test]
    fn saved_views_come_back_per_sources_and_bad_files_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/last-view.json");
        assert_eq!(load(&path, "docker:local"), None);
        let memo = ViewMemo {
            kind: ResourceKind::Device,
            filter: Some("gw".into()),
            sort_column: 2,
            sort_descending: true,
        };
        save(&path, "docker:local", &memo).unwrap();
        save(&path, "kube:a", &ViewMemo::new(ResourceKind::Pod)).unwrap();
        assert_eq!(load(&path, "docker:local"), Some(memo));
        assert_eq!(
            load(&path, "kube:a").map(|m| m.kind),
            Some(ResourceKind::Pod)
        );

        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(load(&path, "docker:local"), None);
        std::fs::write(&path, r#"{"a": {"kind": "nope"}, "b": {"kind": "pod"}}"#).unwrap();
        assert_eq!(load(&path, "a"), None);
        assert_eq!(load(&path, "b").map(|m| m.kind), Some(ResourceKind::Pod));
    }

    #[test]
    fn the_key_is_the_sorted_sources() {
        let a = SourceId::new("fleet:lab");
        let b = SourceId::new("docker:local");
        assert_eq!(sources_key([&a, &b]), "docker:local,fleet:lab");
    }
}
