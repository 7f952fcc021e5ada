//! Confirmation dialog for destructive actions.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

use crate::app::state::{Confirm, Picker, Prompt, PromptFor, RunConfirm, SecretPrompt};
use crate::config::{Role, Theme};

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
    let question = Line::from(vec![
        Span::styled(
            format!("{} ", capitalise(&c.action.label())),
            theme.style(Role::DialogDanger),
        ),
        Span::styled(format!("{kind} "), theme.style(Role::DialogText)),
        Span::styled(c.name.clone(), theme.style(Role::DialogTitle)),
        Span::styled("?", theme.style(Role::DialogText)),
    ]);
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
    let body = vec![
        question,
        Line::from(Span::styled(
            format!("on {}", c.key.source),
            theme.style(Role::Hint),
        )),
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

/// The argument dialog (scale: how many replicas).
pub fn prompt(frame: &mut Frame, area: Rect, p: &Prompt, theme: &Theme) {
    let mut body = vec![
        Line::from(Span::styled(
            p.question.clone(),
            theme.style(Role::DialogText),
        )),
        Line::from(Span::styled(
            format!("on {}", p.key.source),
            theme.style(Role::Hint),
        )),
        input_line(&p.input.text, theme),
    ];
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
    let names: Vec<&str> = c.targets.iter().map(|(_, n)| n.as_str()).collect();
    let shown = if names.len() > 6 {
        format!("{} … (+{})", names[..6].join(", "), names.len() - 6)
    } else {
        names.join(", ")
    };
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

fn boxed_owned(frame: &mut Frame, area: Rect, title: String, body: Vec<Line<'_>>, theme: &Theme) {
    let r = centered(area, 56, body.len() as u16 + 2);
    frame.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.style(Role::DialogBorder))
        .title(Span::styled(title, theme.style(Role::DialogTitle)));
    frame.render_widget(
        Paragraph::new(body)
            .block(block)
            .wrap(Wrap { trim: false })
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

fn boxed(frame: &mut Frame, area: Rect, title: &'static str, body: Vec<Line<'_>>, theme: &Theme) {
    // Wide enough for the longest line (a host key fingerprint), at least 56 columns.
    let widest = body.iter().map(|l| l.width()).max().unwrap_or(0) as u16 + 2;
    let r = centered(area, widest.clamp(56, 96), body.len() as u16 + 2);
    frame.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.style(Role::DialogBorder))
        .title(Span::styled(title, theme.style(Role::DialogTitle)));
    frame.render_widget(
        Paragraph::new(body)
            .block(block)
            .wrap(Wrap { trim: true })
            .style(theme.style(Role::DialogText)),
        r,
    );
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
