//! What the user typed after `/`, compiled once: shared by the table filter, the log search and
//! the log filter, so all three behave the same.
use std::ops::Range;

use regex::{Regex, RegexBuilder};

/// A smart-case substring (case-insensitive unless the needle has an upper-case letter, as in
/// vim and k9s), or a regex when the input starts with `re:`.
///
/// Both compile to a `Regex`: its literal optimisations make substring search as fast as a
/// hand-written memmem, and it gives correct byte ranges for non-ASCII text, where lowercasing
/// the haystack would shift offsets (e.g. `İ` lowercases to two characters).
#[derive(Debug, Clone)]
pub struct Matcher {
    regex: Regex,
}

impl Matcher {
    /// `Ok(None)` for empty input; `Err` carries a readable message for an invalid regex.
    pub fn parse(input: &str) -> Result<Option<Matcher>, String> {
        let (pattern, case_insensitive) = match input.strip_prefix("re:") {
            Some("") => return Ok(None),
            Some(re) => (re.to_string(), false),
            None if input.is_empty() => return Ok(None),
            None => (regex::escape(input), !input.chars().any(char::is_uppercase)),
        };
        RegexBuilder::new(&pattern)
            .case_insensitive(case_insensitive)
            .size_limit(1 << 20)
            .build()
            .map(|regex| Some(Matcher { regex }))
            .map_err(|e| format!("invalid regex: {}", first_line(&e.to_string())))
    }

    pub fn is_match(&self, haystack: &str) -> bool {
        self.regex.is_match(haystack)
    }

    /// Byte ranges of every non-empty match in `haystack`, for highlighting.
    pub fn find_ranges(&self, haystack: &str) -> Vec<Range<usize>> {
        self.regex
            .find_iter(haystack)
            .filter(|m| !m.is_empty())
            .map(|m| m.range())
            .collect()
    }
}

/// regex's errors are multi-line with a caret diagram; a status line wants the last, human line.
fn first_line(msg: &str) -> String {
    msg.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(msg)
        .trim()
        .trim_start_matches("error: ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Matcher {
        Matcher::parse(s).unwrap().unwrap()
    }

    #[test]
    fn smart_case() {
        assert!(m("error").is_match("An ERROR here"));
        assert!(!m("Error").is_match("An ERROR here"));
        assert!(m("Error").is_match("An Error here"));
    }

    #[test]
    fn regex_prefix_and_errors() {
        assert!(m("re:^web-\\d$").is_match("web-2"));
        assert!(!m("re:^web-\\d$").is_match("web-10"));
        let err = Matcher::parse("re:(").unwrap_err();
        assert!(err.contains("regex"), "{err}");
        assert!(Matcher::parse("").unwrap().is_none());
        assert!(Matcher::parse("re:").unwrap().is_none());
    }

    #[test]
    fn literal_metacharacters_and_unicode_ranges() {
        assert!(m("a.b").is_match("xa.b"));
        assert!(!m("a.b").is_match("axb"));
        let hay = "İstanbul straße STRASSE";
        let ranges = m("stra").find_ranges(hay);
        for r in &ranges {
            assert!(hay.is_char_boundary(r.start) && hay.is_char_boundary(r.end));
        }
        assert_eq!(&hay[ranges[0].clone()], "stra");
        assert_eq!(&hay[ranges[1].clone()], "STRA");
    }
}
