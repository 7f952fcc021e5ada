//! A log line's severity, read from its level word: `ERROR`, `FATAL`, `PANIC`, `CRIT` (bad),
//! `WARN`, `WARNING` (warn). Only the view's visible lines are classified, at draw time, so a
//! 500k lines/s follow pays nothing for it; the scan is bounded to the line's head, where
//! loggers put the level.
//!
//! An upper-case level word counts anywhere in the head (`2024-05-01 ERROR db: …`). Other
//! spellings count only where they are clearly a level: at the start of the line (`Error: …`),
//! in brackets (`[warn]`, nginx) or after a level key (`level=error`, `"level":"warn"`), so
//! "0 errors" or "a warning about" stay plain.

/// How far into a line the level word is looked for.
const HEAD: usize = 160;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warn,
}

fn word_level(w: &[u8]) -> Option<Level> {
    const BAD: [&[u8]; 7] = [
        b"ERROR",
        b"ERR",
        b"FATAL",
        b"PANIC",
        b"CRIT",
        b"CRITICAL",
        b"EMERG",
    ];
    const WARN: [&[u8]; 2] = [b"WARN", b"WARNING"];
    if BAD.iter().any(|b| b.eq_ignore_ascii_case(w)) {
        Some(Level::Error)
    } else if WARN.iter().any(|b| b.eq_ignore_ascii_case(w)) {
        Some(Level::Warn)
    } else {
        None
    }
}

/// Whether the text before a word makes it a level: start of line, `[`/`<`, or a level key.
fn level_position(before: &[u8]) -> bool {
    match before.last() {
        None | Some(b'[') | Some(b'<') => true,
        Some(b'=') | Some(b'"') | Some(b':') => {
            let key =
                before
                    .iter()
                    .rposition(|b| b.is_ascii_alphabetic())
                    .map_or(&before[..0], |end| {
                        let start = before[..end]
                            .iter()
                            .rposition(|b| !b.is_ascii_alphabetic())
                            .map_or(0, |i| i + 1);
                        &before[start..=end]
                    });
            [&b"level"[..], b"lvl", b"severity"]
                .iter()
                .any(|k| k.eq_ignore_ascii_case(key))
        }
        _ => false,
    }
}

/// The severity `text` announces, if any.
pub fn level(text: &str) -> Option<Level> {
    let b = text.as_bytes();
    let head = &b[..b.len().min(HEAD)];
    let mut i = 0;
    while i < head.len() {
        if !head[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let start = i;
        while i < head.len() && (head[i].is_ascii_alphanumeric() || head[i] == b'_') {
            i += 1;
        }
        let w = &head[start..i];
        if let Some(l) = word_level(w)
            && (w.iter().all(u8::is_ascii_uppercase) || level_position(&head[..start]))
        {
            return Some(l);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_words_where_loggers_put_them() {
        for (text, want) in [
            ("2024-05-01 12:00:00 ERROR db: timeout", Some(Level::Error)),
            ("FATAL: could not bind", Some(Level::Error)),
            ("panic: runtime error", Some(Level::Error)),
            ("Error: listen EADDRINUSE", Some(Level::Error)),
            ("[crit] disk full", Some(Level::Error)),
            (
                "2024/05/01 12:00:00 [error] 7#7: upstream",
                Some(Level::Error),
            ),
            ("time=x level=warning msg=slow", Some(Level::Warn)),
            (r#"{"level":"warn","msg":"slow"}"#, Some(Level::Warn)),
            ("W WARN retrying", Some(Level::Warn)),
            ("<warn> low memory", Some(Level::Warn)),
            ("0 errors, 2 warnings", None),
            ("a warning about errors", None),
            ("ERR_CONNECTION_RESET is just a name", None),
            ("INFO started", None),
            ("", None),
        ] {
            assert_eq!(level(text), want, "{text}");
        }
    }

    #[test]
    fn only_the_head_is_read() {
        let late = format!("{} ERROR", "x".repeat(HEAD));
        assert_eq!(level(&late), None);
        // A multi-byte character at the cut does not matter: bytes are compared, not chars.
        let s = format!("{}é ERROR", "x".repeat(HEAD - 1));
        assert_eq!(level(&s), None);
    }
}
