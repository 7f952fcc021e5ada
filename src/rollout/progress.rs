//! Reading an updater's output: its progress for the update view's gauge, the line worth
//! showing, the reboot request, and the client's own reason when something failed.
//!
//! What the Mender clients really print (../shared/mender/CONTRACT.md, read from upstream):
//! - Mender 3 (Go) draws its download progress on stderr. Without a TTY — always the case over
//!   an SSH exec channel — that is a header `0%   50%   100%`, a ruler `|----|----|`, then up to
//!   70 dots, one per 1/70 of the artifact, with log lines and stdout interleaved
//!   (mender@3.5.3 vendor/github.com/mendersoftware/progressbar/progress.go:40-55,117-140).
//!   With a TTY it redraws `\r....   -  42 %` (space before `%`, progress.go:86-110).
//! - Mender 4/5 (C++) print no percentage at all, only `Installing artifact...`
//!   (mender src/mender-update/standalone/states.cpp:286-288): the gauge stays empty and the
//!   step says "installing" rather than inventing a number.
//! - Logs are logrus lines on 3.x (`time="..." level=error msg="..."`) and logfmt on 4/5
//!   (`record_id=3 severity=error time="..." name="Global" msg="..."`, mender
//!   src/common/log/platform/boost/boost_log.cpp:93-132): the view shows their message.

/// Dots in a complete Mender 3 non-TTY bar (`terminalWidth`, progress.go:44-55).
const BAR_DOTS: u32 = 70;

/// Follows one command's output lines and tells the percentage they imply.
#[derive(Debug, Default)]
pub struct Progress {
    /// Dots of a Mender 3 bar counted so far; `None` until its header was seen.
    dots: Option<u32>,
}

impl Progress {
    /// The percentage after `line`, when the line says one.
    pub fn feed(&mut self, line: &str) -> Option<u8> {
        let t = line.trim();
        if is_bar_header(t) {
            // The header's "100%" is a scale, not progress.
            self.dots = Some(0);
            return Some(0);
        }
        if is_bar_ruler(t) {
            return None;
        }
        if let Some(dots) = self.dots.as_mut() {
            // The bar's dots start each chunk; log lines and stdout may follow on the same line.
            let n = t.bytes().take_while(|&b| b == b'.').count() as u32;
            if n > 0 {
                *dots = (*dots + n).min(BAR_DOTS);
                return Some((*dots * 100 / BAR_DOTS) as u8);
            }
        }
        percent(t)
    }
}

fn is_bar_header(t: &str) -> bool {
    let mut words = t.split_whitespace();
    words.next() == Some("0%")
        && words.next() == Some("50%")
        && words.next() == Some("100%")
        && words.next().is_none()
}

fn is_bar_ruler(t: &str) -> bool {
    t.len() > 2 && t.starts_with('|') && t.bytes().all(|b| b == b'|' || b == b'-')
}

/// The last `N%` or `N %` (0..=100) in `line`, if any (custom updaters, Mender 3 on a TTY).
pub fn percent(line: &str) -> Option<u8> {
    let bytes = line.as_bytes();
    let mut found = None;
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'%' {
            continue;
        }
        let end = if i > 0 && bytes[i - 1] == b' ' {
            i - 1
        } else {
            i
        };
        let digits_start = bytes[..end]
            .iter()
            .rposition(|c| !c.is_ascii_digit())
            .map_or(0, |p| p + 1);
        if digits_start == end || end - digits_start > 3 {
            continue;
        }
        if let Ok(n) = line[digits_start..end].parse::<u16>()
            && n <= 100
        {
            found = Some(n as u8);
        }
    }
    found
}

/// Does the updater say the device must reboot to finish (Mender 3 and 4 wordings)?
pub fn wants_reboot(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    l.contains("reboot your system")
        || l.contains("at least one payload requested a reboot")
        || l.contains("reboot is required")
}

/// A `key="value"` (or `key=value`) field of a logrus or logfmt line.
fn field<'a>(line: &'a str, key: &str) -> Option<std::borrow::Cow<'a, str>> {
    let mut rest = line;
    loop {
        let at = rest.find(key)?;
        let before_ok = at == 0 || rest.as_bytes()[at - 1] == b' ';
        let after = &rest[at + key.len()..];
        if !before_ok || !after.starts_with('=') {
            rest = after;
            continue;
        }
        let value = &after[1..];
        let Some(quoted) = value.strip_prefix('"') else {
            return Some(value.split(' ').next().unwrap_or("").into());
        };
        // Quoted: up to the first unescaped quote; `\"` and `\\` are the escapes both use.
        let mut out = String::new();
        let mut chars = quoted.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return Some(out.into()),
                '\\' => out.extend(chars.next()),
                c => out.push(c),
            }
        }
        return Some(out.into());
    }
}

/// A structured log line's severity and message: Mender 3's logrus (`level=`) or Mender 4/5's
/// logfmt (`severity=`).
fn log_entry(line: &str) -> Option<(String, String)> {
    let t = line.trim();
    if !(t.starts_with("time=") || t.starts_with("record_id=")) {
        return None;
    }
    let level = field(t, "severity").or_else(|| field(t, "level"))?;
    let msg = field(t, "msg")?;
    Some((level.into_owned(), msg.into_owned()))
}

/// What the update view shows of an output line: a log line's message (with its level when
/// it is not just information), the line itself otherwise; `None` for progress-bar noise.
pub fn display_line(line: &str) -> Option<String> {
    let t = line.trim();
    let t = t.trim_start_matches('.');
    if t.is_empty() || is_bar_header(t) || is_bar_ruler(t) {
        return None;
    }
    match log_entry(t) {
        // A log line with an empty message (`msg=` or `msg=""`) says nothing: it must not blank
        // the line shown, nor hide the message before it (found by fuzzing).
        Some((_, msg)) if msg.trim().is_empty() => None,
        Some((level, msg)) if matches!(level.as_str(), "info" | "debug" | "trace") => Some(msg),
        Some((level, msg)) => Some(format!("{level}: {msg}")),
        None => Some(t.to_string()),
    }
}

/// What an Update Module wrote on stderr, as the client logs it: Mender 3 at info
/// (`Output (stderr) from command "<module>": <text>`, mender@3.4.0 installer/modules.go), Mender
/// 4/5 as `Update Module output (stderr): <text>` (update_module_call.cpp:71).
fn module_stderr(msg: &str) -> Option<&str> {
    if let Some(rest) = msg.strip_prefix("Update Module output (stderr):") {
        return Some(rest.trim());
    }
    let rest = msg.strip_prefix("Output (stderr) from command ")?;
    Some(
        rest.split_once("\": ")
            .map_or(rest, |(_, text)| text)
            .trim(),
    )
}

/// The client's own words for a failure: what the Update Module said last (the most specific:
/// a vetoing health gate, a refused commit), else the last error logged, else the last line
/// that is not one of the client's fixed status texts.
pub fn client_reason(output: &str) -> Option<String> {
    let mut module = None;
    let mut last_error = None;
    let mut last_text = None;
    for line in output.lines() {
        let t = line.trim().trim_start_matches('.');
        if t.is_empty() || is_bar_header(t) || is_bar_ruler(t) {
            continue;
        }
        match log_entry(t) {
            // An empty message is no reason: it must not replace "no reason given" nor the
            // text before it (found by fuzzing).
            Some((_, msg)) if msg.trim().is_empty() => {}
            Some((level, msg)) => {
                if let Some(said) = module_stderr(&msg).filter(|s| !s.is_empty()) {
                    module = Some(said.to_string());
                } else if matches!(level.as_str(), "error" | "fatal" | "panic") {
                    last_error = Some(msg);
                }
            }
            None if is_status_text(t) => {}
            None => last_text = Some(t.to_string()),
        }
    }
    module.or(last_error).or(last_text)
}

/// The clients' fixed result texts (CONTRACT.md): they say what happened, not why.
fn is_status_text(t: &str) -> bool {
    const TEXTS: &[&str] = &[
        "Committing failed.",
        "Rolled back.",
        "Committed.",
        "Committing Artifact...",
        "Rolling back Artifact...",
        "Installation failed.",
        "Installation failed. Rolled back modifications.",
        "Installation failed. System not modified.",
        "System not modified.",
        "No update in progress.",
        "Installing artifact...",
    ];
    TEXTS.contains(&t) || t.starts_with("Installing Artifact of size ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_percentage_wins() {
        assert_eq!(percent("Installing artifact... 42%"), Some(42));
        assert_eq!(percent("  0% ....  37% ........ 100%"), Some(100));
        assert_eq!(percent("no progress here"), None);
        assert_eq!(percent("disk 1234% weird"), None);
        assert_eq!(percent("100%"), Some(100));
        assert_eq!(percent("%"), None);
        // Mender 3 on a TTY.
        assert_eq!(percent("..........                  -  42 %"), Some(42));
    }

    #[test]
    fn mender_3_dots_become_a_percentage_and_its_header_is_not_100() {
        let mut p = Progress::default();
        // What the real 3.4 client wrote over ssh (no TTY), log lines interleaved.
        assert_eq!(
            p.feed("0%                              50%                              100%"),
            Some(0)
        );
        assert_eq!(
            p.feed("|---------------------------------|---------------------------------|"),
            None
        );
        assert_eq!(p.feed(&".".repeat(35)), Some(50));
        assert_eq!(
            p.feed(".......time=\"2026-11-27T12:31:30Z\" level=warning msg=\"x\""),
            Some(60)
        );
        assert_eq!(
            p.feed(&format!("{}Use 'commit' to update", ".".repeat(40))),
            Some(100)
        );
        assert_eq!(p.feed("...."), Some(100));
    }

    #[test]
    fn log_lines_show_their_message() {
        assert_eq!(
            display_line(r#"time="2026-11-27T12:31:17Z" level=info msg="Start updating from local image file: [/x]""#).as_deref(),
            Some("Start updating from local image file: [/x]")
        );
        assert_eq!(
            display_line(r#"record_id=7 severity=error time="2024-01-01 10:00:00.000" name="Global" msg="Update Module output (stderr): said \"no\"""#).as_deref(),
            Some(r#"error: Update Module output (stderr): said "no""#)
        );
        assert_eq!(display_line("......"), None);
        assert_eq!(display_line("|-----|-----|"), None);
        assert_eq!(
            display_line("Installing artifact...").as_deref(),
            Some("Installing artifact...")
        );
    }

    #[test]
    fn a_log_line_without_a_message_shows_nothing() {
        // fuzz/update_progress: `msg= output…` parsed as an empty message.
        let line = r#"record_id=1 severity=info time="t" name="Global" msg= output (stderr): x"#;
        assert_eq!(display_line(line), None);
        assert_eq!(display_line(r#"time="t" level=error msg="""#), None);
        let out = "time=\"t\" level=info msg=\"Installed\"\ntime=\"t\" level=info msg=\n";
        assert_eq!(
            out.lines().rev().find_map(display_line).as_deref(),
            Some("Installed")
        );
    }

    #[test]
    fn the_clients_reason_is_its_last_error() {
        let out = "Committing Artifact...\n\
            time=\"t\" level=error msg=\"ArtifactCommit_Enter script failed: exit 1\"\n\
            time=\"t\" level=info msg=\"Rolling back\"\n\
            Committing failed.\nRolled back.\n";
        assert_eq!(
            client_reason(out).as_deref(),
            Some("ArtifactCommit_Enter script failed: exit 1")
        );
        assert_eq!(
            client_reason("Committing failed.\nhealth: vetoed\nRolled back.\n").as_deref(),
            Some("health: vetoed")
        );
        assert_eq!(client_reason("Committing failed.\nRolled back.\n"), None);
        // The module's own words win over the client's generic error.
        let m3 = "Committing Artifact...\n\
            time=\"t\" level=info msg=\"Output (stderr) from command \\\"/usr/share/mender/modules/v3/fleetdeck-rootfs\\\": health gate: no\"\n\
            time=\"t\" level=error msg=\"Commit failed: Update module terminated abnormally: exit status 1\"\n\
            Rolling back Artifact...\n";
        assert_eq!(client_reason(m3).as_deref(), Some("health gate: no"));
        let m5 = "record_id=4 severity=error time=\"t\" name=\"Global\" msg=\"Update Module output (stderr): health gate: no\"\n\
            Committing failed.\nRolled back.\n";
        assert_eq!(client_reason(m5).as_deref(), Some("health gate: no"));
    }

    #[test]
    fn an_error_without_a_message_is_no_reason() {
        // fuzz/update_progress: `level=error msg= of size …` gave the reason "".
        assert_eq!(
            client_reason("time=\"t\" level=error msg= of size 1\n"),
            None
        );
        assert_eq!(
            client_reason("disk full\ntime=\"t\" level=error msg=\"\"\n").as_deref(),
            Some("disk full")
        );
    }

    #[test]
    fn reboot_requests_are_recognised() {
        assert!(wants_reboot(
            "At least one payload requested a reboot of the device it updated."
        ));
        assert!(wants_reboot("Use -reboot to reboot your system."));
        assert!(!wants_reboot("Installation done"));
    }
}
