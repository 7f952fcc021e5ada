//! Invariants shared by the targets. Each one is a promise of docs/RELIABILITY.md, so a
//! violation is a finding even when nothing panics.
#![allow(dead_code)]

use fleetdeck::model::StyledText;

/// Text that reaches the terminal: no C0, DEL or C1 control (ESC, CSI U+009B, BEL, CR ...).
/// `char::is_control` is exactly Unicode Cc, which is that set.
pub fn assert_clean(s: &str, what: &str) {
    // Controls and invisible format characters (bidi overrides, zero-width): review item L1.
    if let Some(c) = s.chars().find(|&c| fleetdeck::term::sanitize::is_hidden(c)) {
        panic!("{what}: control character {c:?} reaches the terminal in {s:?}");
    }
}

/// Like [`assert_clean`], but tabs are allowed (messages that are not remote text).
pub fn assert_clean_but_tab(s: &str, what: &str) {
    if let Some(c) = s.chars().find(|c| c.is_control() && *c != '\t') {
        panic!("{what}: control character {c:?} in {s:?}");
    }
}

/// A sanitised line: clean text, style runs inside it on char boundaries, in order, and a size
/// bounded by its input (a tab is the largest growth: one byte to at most 8 spaces).
pub fn check_styled(raw: &[u8], out: &StyledText) {
    assert_clean(&out.text, "sanitize");
    assert!(
        out.text.len() <= raw.len() * 8,
        "sanitize grew {} bytes into {}",
        raw.len(),
        out.text.len()
    );
    let mut last_end = 0usize;
    for r in &out.runs {
        let (s, e) = (r.start as usize, r.end as usize);
        assert!(s < e, "empty or reversed style run {s}..{e}");
        assert!(s >= last_end, "overlapping style runs");
        assert!(e <= out.text.len(), "style run past the text");
        assert!(
            out.text.is_char_boundary(s) && out.text.is_char_boundary(e),
            "style run splits a character"
        );
        last_end = e;
    }
}

/// A tiny deterministic generator for targets that derive chunk sizes from one seed byte.
pub struct Steps(u32);

impl Steps {
    pub fn new(seed: u8) -> Self {
        Steps(u32::from(seed) | 1)
    }
    /// 1..=max
    pub fn next(&mut self, max: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        (self.0 as usize % max.max(1)) + 1
    }
}

/// A config error: its message goes to a toast or stderr, so no control character from the
/// input, and a size that does not grow with the input (a 3 MB scalar must not be echoed).
pub fn check_config_error(e: &fleetdeck::config::ConfigError, input: &str) {
    assert_clean_but_tab(&e.message, "config error message");
    assert!(
        e.message.len() <= 2048,
        "config error message of {} bytes for {} bytes of input",
        e.message.len(),
        input.len()
    );
    // YAML breaks lines at \n, \r\n and a lone \r; one more for "at the end of the file".
    let bytes = input.as_bytes();
    let breaks = bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count();
    assert!(
        e.line <= breaks + 2,
        "error on line {} of {}",
        e.line,
        breaks + 1
    );
}

/// Inputs that name a device or pseudo file (`inherits: /dev/stdin` would block the fuzzer,
/// `/dev/zero` reads 4 MiB each time); the loaders' reading of real files is not under test.
pub fn names_special_file(text: &str) -> bool {
    ["/dev", "/proc", "/sys", "/run", "~"]
        .iter()
        .any(|p| text.contains(p))
}
