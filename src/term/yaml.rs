//! YAML for a terminal. serde-saphyr escapes C0, DEL and C1 controls (they force a
//! double-quoted scalar), but writes invisible format characters (bidi overrides such as
//! U+202E, zero-width spaces) raw, even in plain scalars, where YAML has no escape for them.
//!
//! So such a character is first swapped for a marker that makes saphyr double-quote the string
//! (U+FFFF, which it escapes as `\uFFFF`), and the marker is then replaced by the YAML escape of
//! the character: the document means the same to any YAML parser, and the terminal sees only
//! ASCII escapes. A real U+FFFF in the data is marked the same way, so nothing is confused.

use serde_json::Value;

use super::sanitize::is_hidden;

/// What saphyr writes for U+FFFF inside a double-quoted scalar.
const MARK_OUT: &str = "\\uFFFF";
const MARK: char = '\u{FFFF}';

/// `serde_saphyr::to_string` of `value`, with every control and invisible format character
/// escaped.
pub fn to_string(value: &Value) -> Result<String, serde_saphyr::ser::Error> {
    let text = serde_saphyr::to_string(&mark(value))?;
    Ok(unmark(&text))
}

/// `value` with each format character `c` (and U+FFFF) as MARK + hex + MARK.
fn mark(value: &Value) -> Value {
    match value {
        Value::String(s) if s.chars().any(needs_mark) => {
            let mut out = String::with_capacity(s.len() + 16);
            for c in s.chars() {
                if needs_mark(c) {
                    out.push(MARK);
                    out.push_str(&format!("{:X}", c as u32));
                    out.push(MARK);
                } else {
                    out.push(c);
                }
            }
            Value::String(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(mark).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| match mark(&Value::String(k.clone())) {
                    Value::String(k) => (k, mark(v)),
                    _ => (k.clone(), mark(v)),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Saphyr escapes controls itself; the rest of the hidden characters (and the marker) are ours.
fn needs_mark(c: char) -> bool {
    c == MARK || (is_hidden(c) && !c.is_control())
}

/// `\uFFFF<hex>\uFFFF` → `\uXXXX` (or `\UXXXXXXXX` above the BMP).
fn unmark(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(MARK_OUT) {
        out.push_str(&rest[..at]);
        let after = &rest[at + MARK_OUT.len()..];
        let marked = after.find(MARK_OUT).and_then(|end| {
            let code = u32::from_str_radix(&after[..end], 16).ok()?;
            Some((code, end))
        });
        match marked {
            Some((code, end)) => {
                if code > 0xFFFF {
                    out.push_str(&format!("\\U{code:08X}"));
                } else {
                    out.push_str(&format!("\\u{code:04X}"));
                }
                rest = &after[end + MARK_OUT.len()..];
            }
            // Not one of ours (cannot happen: every U+FFFF was marked); keep it as written.
            None => {
                out.push_str(MARK_OUT);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn format_characters_are_escaped_and_the_value_is_unchanged() {
        let v = json!([{
            "name": "a\u{202e}txet",
            "zw": "web\u{200b}-1",
            "c1": "x\u{9b}31m",
            "ffff": "y\u{ffff}",
            "tag": "\u{e0041}",
            "multi": "line 1\nline\u{2066} 2\n",
            "plain": "hello",
            "k\u{202e}ey": 1
        }]);
        let text = to_string(&v).unwrap();
        assert!(!text.chars().any(|c| is_hidden(c) && c != '\n'), "{text:?}");
        assert!(text.contains(r"\u202E"), "{text}");
        assert!(text.contains(r"\U000E0041"), "{text}");
        assert!(text.contains("plain: hello"), "{text}");
        let back: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back, v, "{text}");
    }
}
