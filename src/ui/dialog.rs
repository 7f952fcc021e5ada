//! Dialogs: confirmations, argument prompts, the sandbox picker, the passphrase question.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

use crate::app::state::{Confirm, Picker, Prompt, PromptFor, RunConfirm, SecretPrompt};
use crate::config::{Role, Theme};
use crate::model::{ResourceAction, ResourceKind, Work};

pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    r
}

pub fn confirm(frame: &mut Frame, area: Rect, c: &Confirm, theme: &Theme) {
    let kind = c.key.kind.name().trim_end_matches('s');
    let question = match &c.action {
        // The label already names the devices: "Update 3 devices to X (parallel 3, ...)?".
        ResourceAction::StartUpdate(req) => Line::from(vec![
            Span::styled(capitalise(&req.label()), theme.style(Role::DialogDanger)),
            Span::styled("?", theme.style(Role::DialogText)),
        ]),
        ResourceAction::ClearFinished => Line::from(vec![
            Span::styled("Clear ", theme.style(Role::DialogDanger)),
            Span::styled(
                "the finished rollouts and their rows?",
                theme.style(Role::DialogText),
            ),
        ]),
        action => {
            let verb = match action {
                ResourceAction::AbortDeployment if c.key.kind == ResourceKind::Rollout => {
                    "Abort".to_string()
                }
                // The detail line shows the fingerprint (the label, for the audit, has it too).
                ResourceAction::AcceptHostKey(_) => capitalise(action.name()),
                // "Close forward 127.0.0.1:8080?", not "Close forward forward …".
                ResourceAction::CloseForward => "Close".to_string(),
                a => capitalise(&a.label()),
            };
            Line::from(vec![
                Span::styled(format!("{verb} "), theme.style(Role::DialogDanger)),
                Span::styled(format!("{kind} "), theme.style(Role::DialogText)),
                Span::styled(c.name.clone(), theme.style(Role::DialogTitle)),
                Span::styled("?", theme.style(Role::DialogText)),
            ])
        }
    };
    if let Some(typed) = &c.typed {
        let mut body = vec![question];
        if let Some(d) = &c.detail {
            body.push(Line::from(Span::styled(
                d.clone(),
                theme.style(Role::DialogText),
            )));
        }
        body.extend([
            Line::from(Span::styled(
                format!("on {}. Type its name to confirm:", c.key.source),
                theme.style(Role::Hint),
            )),
            input_line(&typed.text, theme),
            Line::from(vec![
                Span::styled("[Enter] ", theme.style(Role::HelpKey)),
                Span::styled(
                    format!("{}    ", c.action.name()),
                    theme.style(Role::DialogText),
                ),
                Span::styled("[Esc] ", theme.style(Role::HelpKey)),
                Span::styled("cancel", theme.style(Role::DialogText)),
            ]),
        ]);
        return boxed(frame, area, " Confirm ", body, theme);
    }
    let mut body = vec![question];
    if let ResourceAction::StartUpdate(req) = &c.action
        && req.devices.len() > 1
    {
        body.push(Line::from(Span::styled(
            few(&req.devices),
            theme.style(Role::Hint),
        )));
    }
    body.push(Line::from(Span::styled(
        format!("on {}", c.key.source),
        theme.style(Role::Hint),
    )));
    if c.action == ResourceAction::ClearFinished {
        body.push(Line::from(Span::styled(
            "Deletes their records from the rollout journal; running rollouts stay.",
            theme.style(Role::DialogText),
        )));
    }
    // A detail may have several lines; pre-flight warnings (`⚠ ...`) stand out.
    for line in c.detail.iter().flat_map(|d| d.lines()) {
        let role = if line.starts_with('⚠') {
            Role::DialogDanger
        } else {
            Role::DialogText
        };
        body.push(Line::from(Span::styled(
            line.to_string(),
            theme.style(role),
        )));
    }
    body.extend([
        Line::from(""),
        Line::from(vec![
            Span::styled("[y] ", theme.style(Role::HelpKey)),
            Span::styled("yes    ", theme.style(Role::DialogText)),
            Span::styled("[n/Esc] ", theme.style(Role::HelpKey)),
            Span::styled("no", theme.style(Role::DialogText)),
        ]),
    ]);
    boxed(frame, area, " Confirm ", body, theme)
}

/// The first names of a list, then how many more: "gw-1, gw-2, … (+10)".
fn few(names: &[String]) -> String {
    if names.len() > 6 {
        format!("{} … (+{})", names[..6].join(", "), names.len() - 6)
    } else {
        names.join(", ")
    }
}

/// The argument dialog (scale: how many replicas; deployments and updates: the artifact).
/// A question may have several lines (an update's options).
pub fn prompt(frame: &mut Frame, area: Rect, p: &Prompt, theme: &Theme) {
    let mut body: Vec<Line> = p
        .question
        .lines()
        .map(|l| Line::from(Span::styled(l.to_string(), theme.style(Role::DialogText))))
        .collect();
    body.push(Line::from(Span::styled(
        format!("on {}", p.key.source),
        theme.style(Role::Hint),
    )));
    // A long answer (a URL) scrolls: its end, where the cursor is, stays in view.
    let room = usize::from(area.width.min(MAX_WIDTH).saturating_sub(2 + 3));
    body.push(input_line(&tail(&p.input.text, room), theme));
    body.push(match &p.error {
        Some(e) => Line::from(Span::styled(e.clone(), theme.style(Role::DialogDanger))),
        None => Line::from(vec![
            Span::styled("[Enter] ", theme.style(Role::HelpKey)),
            Span::styled("apply    ", theme.style(Role::DialogText)),
            Span::styled("[Esc] ", theme.style(Role::HelpKey)),
            Span::styled("cancel", theme.style(Role::DialogText)),
        ]),
    });
    let title = match p.purpose {
        PromptFor::Scale => " Scale ",
        PromptFor::Deployment(_) => " Create deployment ",
        PromptFor::Update(_) => " Update over SSH ",
        PromptFor::Forward => " Port forward ",
    };
    boxed(frame, area, title, body, theme)
}

/// The sandbox picker.
pub fn picker(frame: &mut Frame, area: Rect, p: &Picker, theme: &Theme) {
    let mut body = vec![Line::from(Span::styled(
        format!("on {}", p.key.source),
        theme.style(Role::Hint),
    ))];
    for (i, o) in p.options.iter().enumerate() {
        let (mark, role) = if i == p.selected {
            ("▶ ", Role::DialogTitle)
        } else {
            ("  ", Role::DialogText)
        };
        body.push(Line::from(Span::styled(
            format!("{mark}{}. {o}", i + 1),
            theme.style(role),
        )));
    }
    body.push(Line::from(vec![
        Span::styled("[Enter] ", theme.style(Role::HelpKey)),
        Span::styled("open    ", theme.style(Role::DialogText)),
        Span::styled("[Esc] ", theme.style(Role::HelpKey)),
        Span::styled("cancel", theme.style(Role::DialogText)),
    ]));
    let title = format!(" {} ", p.title);
    boxed_owned(frame, area, title, body, theme)
}

/// The passphrase question: the answer is drawn as dots.
pub fn secret(frame: &mut Frame, area: Rect, p: &SecretPrompt, theme: &Theme) {
    let body = vec![
        Line::from(Span::styled(
            format!("Passphrase needed for {}", p.key_path),
            theme.style(Role::DialogText),
        )),
        input_line(&"•".repeat(p.input.text.chars().count()), theme),
        Line::from(vec![
            Span::styled("[Enter] ", theme.style(Role::HelpKey)),
            Span::styled("unlock    ", theme.style(Role::DialogText)),
            Span::styled("[Esc] ", theme.style(Role::HelpKey)),
            Span::styled("skip", theme.style(Role::DialogText)),
        ]),
    ];
    boxed(frame, area, " SSH key ", body, theme)
}

/// `:run` confirmation.
pub fn confirm_run(frame: &mut Frame, area: Rect, c: &RunConfirm, theme: &Theme) {
    let names: Vec<String> = c.targets.iter().map(|(_, n)| n.clone()).collect();
    let shown = few(&names);
    let body = vec![
        Line::from(vec![
            Span::styled("Run ", theme.style(Role::DialogDanger)),
            Span::styled(format!("`{}`", c.command), theme.style(Role::DialogTitle)),
            Span::styled(
                format!(" on {} device(s)?", c.targets.len()),
                theme.style(Role::DialogText),
            ),
        ]),
        Line::from(Span::styled(shown, theme.style(Role::Hint))),
        Line::from(""),
        Line::from(vec![
            Span::styled("[y] ", theme.style(Role::HelpKey)),
            Span::styled("yes    ", theme.style(Role::DialogText)),
            Span::styled("[n/Esc] ", theme.style(Role::HelpKey)),
            Span::styled("no", theme.style(Role::DialogText)),
        ]),
    ];
    boxed(frame, area, " Confirm ", body, theme)
}

/// Quitting while this console drives rollouts.
pub fn confirm_quit(frame: &mut Frame, area: Rect, work: &[Work], theme: &Theme) {
    let mut body = vec![Line::from(Span::styled(
        "This console is updating devices:",
        theme.style(Role::DialogDanger),
    ))];
    for w in work.iter().take(4) {
        body.push(Line::from(Span::styled(
            format!("  {}: {}", w.key.id, w.summary),
            theme.style(Role::DialogText),
        )));
    }
    if work.len() > 4 {
        body.push(Line::from(Span::styled(
            format!("  and {} more", work.len() - 4),
            theme.style(Role::Hint),
        )));
    }
    body.push(Line::from(Span::styled(
        "Installs go on on the devices; the next fleetdeck started here resumes the rollouts.",
        theme.style(Role::Hint),
    )));
    body.push(Line::from(""));
    body.push(Line::from(vec![
        Span::styled("[l/y] ", theme.style(Role::HelpKey)),
        Span::styled("leave them running, quit   ", theme.style(Role::DialogText)),
    ]));
    body.push(Line::from(vec![
        Span::styled("[a] ", theme.style(Role::HelpKey)),
        Span::styled(
            "abort (no new devices start), quit   ",
            theme.style(Role::DialogText),
        ),
    ]));
    body.push(Line::from(vec![
        Span::styled("[n/Esc] ", theme.style(Role::HelpKey)),
        Span::styled("stay", theme.style(Role::DialogText)),
    ]));
    boxed(frame, area, " Quit? ", body, theme)
}

fn boxed_owned(frame: &mut Frame, area: Rect, title: String, body: Vec<Line<'_>>, theme: &Theme) {
    let r = centered(area, 56, body.len() as u16 + 2);
    // Untrimmed: the picker's rows are aligned with leading spaces.
    draw_box(frame, r, title, body, theme, false);
}

/// A rounded, titled dialog box at `r`, over whatever was drawn there.
fn draw_box<'a>(
    frame: &mut Frame,
    r: Rect,
    title: impl Into<std::borrow::Cow<'a, str>>,
    body: Vec<Line<'_>>,
    theme: &Theme,
    trim: bool,
) {
    frame.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.style(Role::DialogBorder))
        .title(Span::styled(title, theme.style(Role::DialogTitle)));
    frame.render_widget(
        Paragraph::new(body)
            .block(block)
            .wrap(Wrap { trim })
            .style(theme.style(Role::DialogText)),
        r,
    );
}

fn input_line<'a>(text: &str, theme: &Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled("> ", theme.style(Role::HelpKey)),
        Span::styled(format!("{text}█"), theme.style(Role::DialogTitle)),
    ])
}

/// Widest a dialog grows.
const MAX_WIDTH: u16 = 96;

/// The last `room` characters of `text`, "…" first when cut.
fn tail(text: &str, room: usize) -> String {
    let n = text.chars().count();
    if n <= room || room == 0 {
        return text.to_string();
    }
    let skip = n - room + 1;
    format!("…{}", text.chars().skip(skip).collect::<String>())
}

/// Rows `line` takes when word-wrapped to `width` (like the paragraph wraps it, or more).
fn wrapped_rows(line: &Line<'_>, width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    let mut rows = 1;
    let mut col = 0;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let len = Span::raw(word).width();
        if col > 0 && col + 1 + len <= width {
            col += 1 + len;
        } else {
            if col > 0 {
                rows += 1;
            }
            // A word longer than the line is broken.
            rows += (len.max(1) - 1) / width;
            col = (len.max(1) - 1) % width + 1;
        }
    }
    u16::try_from(rows).unwrap_or(u16::MAX)
}

fn boxed(frame: &mut Frame, area: Rect, title: &'static str, body: Vec<Line<'_>>, theme: &Theme) {
    // Wide enough for the longest line (a host key fingerprint), at least 56 columns; taller
    // when lines wrap (a long update label), so the keys line stays in view.
    let widest = body.iter().map(|l| l.width()).max().unwrap_or(0) as u16 + 2;
    let width = widest.clamp(56, MAX_WIDTH).min(area.width);
    let rows: u16 = body
        .iter()
        .map(|l| wrapped_rows(l, width.saturating_sub(2)))
        .sum();
    let r = centered(area, width, rows + 2);
    draw_box(frame, r, title, body, theme, true);
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_wrapped_lines() {
        assert_eq!(wrapped_rows(&Line::from(""), 10), 1);
        assert_eq!(wrapped_rows(&Line::from("aaaa bbbb"), 10), 1);
        assert_eq!(wrapped_rows(&Line::from("aaaa bbbbbb"), 10), 2);
        assert_eq!(wrapped_rows(&Line::from("a".repeat(25)), 10), 3);
        assert_eq!(
            wrapped_rows(&Line::from(format!("ab {}", "c".repeat(20))), 10),
            3
        );
    }

    #[test]
    fn long_answers_show_their_end() {
        assert_eq!(tail("abc", 5), "abc");
        assert_eq!(tail("abcdefgh", 5), "…efgh");
    }
}
