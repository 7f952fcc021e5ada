//! JSON for a terminal. `serde_json` escapes only C0 controls, `"` and `\`; a C1 control such as
//! U+009B (an 8-bit CSI that many terminals obey), DEL or a bidi override from a remote name or
//! command output would reach the tty raw in `-o json`. This writer also escapes those as
//! `\uXXXX`: the document means the same to any JSON parser, and nothing in it can steer the
//! terminal it is printed on.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};

use super::sanitize::is_hidden;

/// Pretty JSON (as `serde_json::to_string_pretty`) with every control and invisible format
/// character escaped.
pub fn to_string_pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, Escaping(PrettyFormatter::new()));
    value.serialize(&mut ser)?;
    // serde_json writes UTF-8 and the escapes are ASCII.
    String::from_utf8(out).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

/// `PrettyFormatter` plus escaping of what serde_json leaves raw inside strings.
struct Escaping(PrettyFormatter<'static>);

impl Formatter for Escaping {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_hidden(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                // JSON escapes are UTF-16 code units: a surrogate pair above the BMP.
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{u:04x}")?;
                }
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    // The layout is PrettyFormatter's.
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn c1_del_and_bidi_are_escaped_and_the_value_is_unchanged() {
        let v = json!({"id": "ns/a\u{9b}31m\u{7f}\u{202e}b\u{1b}", "n": [1, "\u{e0041}"]});
        let text = to_string_pretty(&v).unwrap();
        assert!(
            text.contains(r#""ns/a\u009b31m\u007f\u202eb\u001b""#),
            "{text}"
        );
        assert!(text.contains(r#""\udb40\udc41""#), "{text}");
        assert!(!text.chars().any(|c| is_hidden(c) && c != '\n'), "{text:?}");
        // Same document for a parser, same layout as serde_json's pretty printer.
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
        let plain = json!({"a": [1, {"b": "é日本"}], "c": null});
        assert_eq!(
            to_string_pretty(&plain).unwrap(),
            serde_json::to_string_pretty(&plain).unwrap()
        );
    }
}
