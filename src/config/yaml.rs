//! serde-saphyr glue shared by the config, theme and keymap parsers: error conversion to
//! `file:line:col`, an order-preserving map, a "any scalar" value, and did-you-mean hints.

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde_saphyr::{Location, MessageFormatter, Spanned};

use super::ConfigError;

/// Parse one YAML document. An empty document (nothing, only comments, or `~`) is `None`, so
/// callers can treat an empty file as "all defaults" instead of an error.
pub(crate) fn parse<T: DeserializeOwned>(
    text: &str,
    file: &Path,
) -> Result<Option<T>, ConfigError> {
    let mut options = serde_saphyr::Options::default();
    // We only need the message and the position; the snippet would copy the input.
    options.with_snippet = false;
    serde_saphyr::from_str_with_options::<Option<T>>(text, options).map_err(|e| {
        let mut err = from_saphyr(&e, file);
        if err.line > 0 && unquoted_hex_near(text, err.line) {
            err.message
                .push_str(" (quote hex colours: \"#5fafff\" — an unquoted # starts a comment)");
        }
        err
    })
}

/// Whether the error line or the one before has `: #abc…`, the classic unquoted-hex mistake
/// that turns the rest of a flow mapping into a comment.
fn unquoted_hex_near(text: &str, line: usize) -> bool {
    let first = line.saturating_sub(2);
    text.lines().skip(first).take(line - first).any(|l| {
        l.match_indices(": #").any(|(i, m)| {
            let rest = &l[i + m.len()..];
            let hex = rest.chars().take_while(char::is_ascii_hexdigit).count();
            hex == 3 || hex == 6
        })
    })
}

/// Config files are small; a cap keeps a mistaken `--theme /dev/zero` from eating memory.
pub(crate) const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Read a config-ish file as UTF-8 text, with errors naming the file.
pub(crate) fn read_text(file: &Path) -> Result<String, ConfigError> {
    use std::io::Read;
    let f = std::fs::File::open(file).map_err(|e| ConfigError::io(file, &e))?;
    let mut buf = Vec::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| ConfigError::io(file, &e))?;
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(ConfigError::whole_file(
            file,
            format!("file is larger than {} MiB", MAX_FILE_BYTES >> 20),
        ));
    }
    String::from_utf8(buf).map_err(|_| ConfigError::whole_file(file, "not valid UTF-8 text"))
}

/// Convert a serde-saphyr error into our located error.
pub(crate) fn from_saphyr(err: &serde_saphyr::Error, file: &Path) -> ConfigError {
    let (line, col) = err
        .location()
        .filter(|l| *l != Location::UNKNOWN)
        .map(|l| (to_usize(l.line()), to_usize(l.column())))
        .unwrap_or((0, 0));
    ConfigError::new(file, line, col, message(err))
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The message without serde-saphyr's " at line X, column Y" suffix (we put the position in
/// front, compiler-style), reworded where the library's text is too terse for a config user.
fn message(err: &serde_saphyr::Error) -> String {
    let inner = innermost(err);
    let text = match inner {
        serde_saphyr::Error::InvalidScalar { ty, .. } => match *ty {
            "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => {
                "expected a non-negative whole number".to_string()
            }
            "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => {
                "expected a whole number".to_string()
            }
            "f32" | "f64" => "expected a number".to_string(),
            "bool" | "boolean" => "expected true or false".to_string(),
            _ => serde_saphyr::UserMessageFormatter
                .format_message(inner)
                .into_owned(),
        },
        serde_saphyr::Error::InvalidBooleanStrict { .. } => "expected true or false".to_string(),
        serde_saphyr::Error::Unexpected {
            expected: "mapping start",
            ..
        } => "expected a mapping (`key: value` lines)".to_string(),
        _ => serde_saphyr::UserMessageFormatter
            .format_message(inner)
            .into_owned(),
    };
    let text = cap(&sanitize(&shorten_echoes(&text)), MAX_MESSAGE);
    if text.contains("invalid boolean") {
        // serde-saphyr words a bad bool as "invalid boolean" through more than one variant.
        return "expected true or false".to_string();
    }
    text
}

/// Most of the user's own text a message repeats inside quotes, in characters. serde's
/// messages quote the offending key or value whole (`unknown field `…``), and a 3 MB key must
/// not come back as a 3 MB toast (found by fuzzing).
const MAX_ECHO: usize = 60;
/// A backstop for every message, whatever its wording.
const MAX_MESSAGE: usize = 1024;

/// `s` cut to `max` characters, with `…` when something was cut.
fn cap(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// Every `…` or "…" part of a library message cut to [`MAX_ECHO`] characters (an unclosed one
/// up to the end).
fn shorten_echoes(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_MESSAGE));
    let mut rest = text;
    while let Some(open) = rest.find(['`', '"']) {
        let quote = &rest[open..=open];
        out.push_str(&rest[..=open]);
        let inner = &rest[open + 1..];
        let close = inner.find(quote).unwrap_or(inner.len());
        out.push_str(&cap(&inner[..close], MAX_ECHO));
        out.push_str(&inner[close..(close + 1).min(inner.len())]);
        rest = &inner[(close + 1).min(inner.len())..];
    }
    out.push_str(rest);
    out
}

/// Alias and snippet wrappers carry the real error inside; the formatter wants that one.
fn innermost(err: &serde_saphyr::Error) -> &serde_saphyr::Error {
    let mut e = err.without_snippet();
    #[allow(deprecated)]
    while let serde_saphyr::Error::AliasError { error, .. } = e {
        e = error.without_snippet();
    }
    e
}

/// Messages end up in a terminal (toasts, stderr): never let control characters (or the
/// invisible format characters that reorder text) from the input through; they show escaped.
pub(crate) fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else if crate::term::sanitize::is_hidden(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// A user-written word quoted for a message: sanitised and shortened.
pub(crate) fn quote(s: &str) -> String {
    const MAX: usize = 60;
    let clean = sanitize(s);
    if clean.chars().count() > MAX {
        let cut: String = clean.chars().take(MAX).collect();
        format!("`{cut}…`")
    } else {
        format!("`{clean}`")
    }
}

/// Error at a spanned node.
pub(crate) fn error_at(file: &Path, loc: &Location, message: impl Into<String>) -> ConfigError {
    let (line, col) = if *loc == Location::UNKNOWN {
        (0, 0)
    } else {
        (to_usize(loc.line()), to_usize(loc.column()))
    };
    ConfigError::new(file, line, col, message)
}

/// The location of a spanned value (where it is used, not where an anchor defined it).
pub(crate) fn loc<T>(s: &Spanned<T>) -> &Location {
    &s.referenced
}

/// A mapping kept in document order, so merging and duplicate detection are deterministic and
/// every entry keeps its own position.
#[derive(Debug)]
pub(crate) struct Entries<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for Entries<K, V> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Entries<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V2<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for V2<K, V> {
            type Value = Entries<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(kv) = map.next_entry()? {
                    out.push(kv);
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V2(PhantomData))
    }
}

/// A list, or `false` for "none at all" (`docker: false`): `Some(list)` for a list, `~` or
/// `true` (the default list), `None` for `false`. Items keep their own positions in errors.
pub(crate) fn list_or_false<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<T>>, D::Error> {
    struct V<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Option<Vec<T>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list, or false for none")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(v.then(Vec::new))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Some(Vec::new()))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Some(Vec::new()))
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(x) = seq.next_element()? {
                out.push(x);
            }
            Ok(Some(out))
        }
    }
    d.deserialize_any(V(PhantomData))
}

/// Any scalar, as text: colours may be written `244` or `"#5fafff"`, keys `0` or `y`, and an
/// action may be `~` (unbind). Sequences and mappings are rejected by serde with a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scalar {
    Text(String),
    Null,
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Through `Option<String>`, not `deserialize_any`: a string target keeps the scalar's
        // text as written, so the key `n` stays "n" instead of YAML 1.1's `false`, and `0x10`
        // stays "0x10". Null (`~`, empty) is the only special value.
        Ok(match Option::<String>::deserialize(d)? {
            Some(t) => Scalar::Text(t),
            None => Scalar::Null,
        })
    }
}

/// Damerau–Levenshtein (optimal string alignment) distance: a swapped pair like `stpo`/`stop`
/// costs 1, which is the typo people actually make.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

/// The closest candidate, if it is close enough to be a plausible typo.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    // Long inputs cannot be typos of our short names; skip the quadratic work.
    if word.chars().count() > 64 {
        return None;
    }
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (distance(&word.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// " (did you mean `x`?)" or "".
pub(crate) fn hint<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(word, candidates)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Doc {
        m: Entries<Spanned<Scalar>, Spanned<Scalar>>,
    }

    #[test]
    fn entries_keep_order_and_positions() {
        let doc: Option<Doc> = parse("m:\n  b: 1\n  a: x\n  c: ~\n", Path::new("f")).unwrap();
        let doc = doc.unwrap();
        let keys: Vec<_> = doc.m.0.iter().map(|(k, _)| k.value.clone()).collect();
        assert_eq!(
            keys,
            [
                Scalar::Text("b".into()),
                Scalar::Text("a".into()),
                Scalar::Text("c".into())
            ]
        );
        assert_eq!(doc.m.0[1].0.referenced.line(), 3);
        assert_eq!(doc.m.0[1].1.referenced.column(), 6);
        assert_eq!(doc.m.0[0].1.value, Scalar::Text("1".into()));
        assert_eq!(doc.m.0[2].1.value, Scalar::Null);
    }

    #[test]
    fn yaml11_words_stay_text_for_scalars() {
        let doc: Doc = parse(
            "m:\n  y: confirm\n  n: no\n  0: 0x10\n  N: off\n  ~: 1.50\n",
            Path::new("f"),
        )
        .unwrap()
        .unwrap();
        let text = |s: &str| Scalar::Text(s.into());
        let keys: Vec<_> = doc.m.0.iter().map(|(k, _)| k.value.clone()).collect();
        assert_eq!(
            keys,
            [text("y"), text("n"), text("0"), text("N"), Scalar::Null]
        );
        let vals: Vec<_> = doc.m.0.iter().map(|(_, v)| v.value.clone()).collect();
        assert_eq!(
            vals,
            [
                text("confirm"),
                text("no"),
                text("0x10"),
                text("off"),
                text("1.50")
            ]
        );
    }

    #[test]
    fn syntax_error_is_located() {
        let e = parse::<Doc>("m:\n  a: [1\n", Path::new("/t/f.yaml")).unwrap_err();
        assert!(e.to_string().starts_with("/t/f.yaml:"), "{e}");
        assert!(e.line >= 2, "{e}");
    }

    #[test]
    fn empty_is_none() {
        assert!(parse::<Doc>("", Path::new("f")).unwrap().is_none());
        assert!(parse::<Doc>("# only\n", Path::new("f")).unwrap().is_none());
    }

    #[test]
    fn typo_hints() {
        assert_eq!(distance("stpo", "stop"), 1);
        assert_eq!(
            did_you_mean("stpo", ["start", "stop", "quit"]),
            Some("stop")
        );
        assert_eq!(did_you_mean("zzzzzz", ["start", "stop"]), None);
        assert_eq!(hint("quti", ["quit"]), " (did you mean `quit`?)");
    }

    #[test]
    fn a_long_key_or_value_is_not_echoed_whole() {
        // fuzz/config_yaml: an unknown key of 1,300 characters came back whole in the message.
        let key = "k".repeat(1_000);
        let e =
            parse::<super::super::Config>(&format!("{key}: 1\n"), Path::new("c.yaml")).unwrap_err();
        assert!(e.message.len() < 300, "{} bytes", e.message.len());
        assert!(
            e.message.starts_with(&format!(
                "unknown field `{}…`, expected one of",
                "k".repeat(60)
            )),
            "{}",
            e.message
        );
        assert_eq!(
            shorten_echoes("a \"xy\" `unclosed"),
            "a \"xy\" `unclosed",
            "short echoes stay"
        );
        assert_eq!(cap("ab", 1), "a…");
    }

    #[test]
    fn sanitize_escapes_controls() {
        assert_eq!(sanitize("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(quote("x\ny"), "`x\\ny`");
    }
}
