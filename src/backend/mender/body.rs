//! Mender response bodies, read with a size cap, and JSON lists parsed item by item as they
//! arrive. A server (or anything in between) that answers `200` and then sends forever must
//! cost an error naming the endpoint, never gigabytes: the review measured 5 GB in 10 s when
//! bodies were collected whole.
//!
//! Lists never exist twice in memory: each item is parsed as soon as its last byte arrives and
//! its bytes are dropped, so a page costs its parsed items plus one item's bytes. A list has at
//! most [`MAX_ITEMS`] items: pages are asked with `per_page` 500 (the server's maximum), so more
//! than twice that is not a Mender answer.

use bytes::{Buf, Bytes, BytesMut};
use http_body_util::BodyExt;
use serde_json::Value;

/// The most bytes of one answer (a page of 500 devices with their inventory is a few MiB).
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// The most bytes of an error answer kept (only its start is shown).
pub const MAX_ERROR_BODY: usize = 64 * 1024;
/// The most items of one list answer.
pub const MAX_ITEMS: usize = 1000;

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// More than the cap: reading stopped there.
    TooLarge(usize),
    /// The connection failed mid-body.
    Transport(String),
    /// The JSON list is malformed, not a list, or too long (the text says which).
    Decode(String),
}

/// The whole body, at most `limit` bytes; `cut` when there was more (then only `limit` bytes
/// were read and the rest was left unread).
pub async fn read_bytes<B>(mut body: B, limit: usize) -> Result<(Bytes, bool), ReadError>
where
    B: BodyExt + Unpin,
    B::Error: std::fmt::Display,
{
    let mut out = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ReadError::Transport(e.to_string()))?;
        let Ok(mut data) = frame.into_data() else {
            continue; // trailers
        };
        let room = limit - out.len();
        let n = data.remaining();
        if n > room {
            let mut head = vec![0; room];
            data.copy_to_slice(&mut head);
            out.extend_from_slice(&head);
            return Ok((out.freeze(), true));
        }
        while data.has_remaining() {
            let chunk = data.chunk();
            let len = chunk.len();
            out.extend_from_slice(chunk);
            data.advance(len);
        }
    }
    Ok((out.freeze(), false))
}

/// A JSON list read as it arrives, at most `limit` bytes and [`MAX_ITEMS`] items.
pub async fn read_list<B>(mut body: B, limit: usize) -> Result<Vec<Value>, ReadError>
where
    B: BodyExt + Unpin,
    B::Error: std::fmt::Display,
{
    let mut list = ListSplitter::default();
    let mut read = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ReadError::Transport(e.to_string()))?;
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        while data.has_remaining() {
            let chunk = data.chunk();
            let len = chunk.len();
            read += len;
            if read > limit {
                return Err(ReadError::TooLarge(limit));
            }
            list.push(chunk).map_err(ReadError::Decode)?;
            data.advance(len);
        }
    }
    list.finish().map_err(ReadError::Decode)
}

/// Parse `bytes` as JSON; a list goes through [`ListSplitter`] (so its item cap holds here too).
pub fn parse(bytes: &[u8]) -> Result<Value, String> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        let mut list = ListSplitter::default();
        list.push(bytes)?;
        return list.finish().map(Value::Array);
    }
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Before the opening `[`.
    #[default]
    Start,
    /// Between items (after `[` or a `,`).
    Between,
    /// Inside an item.
    Item,
    /// After the closing `]`.
    Done,
}

/// Splits the bytes of one JSON list into its items, whatever the chunking, tracking only
/// nesting depth and string state; each complete item is parsed by serde_json.
#[derive(Debug, Default)]
pub struct ListSplitter {
    at: At,
    depth: usize,
    in_string: bool,
    escaped: bool,
    item: Vec<u8>,
    items: Vec<Value>,
}

impl ListSplitter {
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), String> {
        for &b in chunk {
            match self.at {
                At::Start => match b {
                    b if b.is_ascii_whitespace() => {}
                    b'[' => self.at = At::Between,
                    other => return Err(format!("expected a JSON list, got {}", what(other))),
                },
                At::Between => match b {
                    b if b.is_ascii_whitespace() => {}
                    b']' if self.items.is_empty() => self.at = At::Done,
                    b',' | b']' => return Err("malformed JSON list".into()),
                    _ => {
                        self.at = At::Item;
                        self.byte(b)?;
                    }
                },
                At::Item => self.byte(b)?,
                At::Done if b.is_ascii_whitespace() => {}
                At::Done => return Err("data after the end of the JSON list".into()),
            }
        }
        Ok(())
    }

    /// One byte of an item (or the `,`/`]` that ends it).
    fn byte(&mut self, b: u8) -> Result<(), String> {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
            }
            self.item.push(b);
            return Ok(());
        }
        match b {
            b',' | b']' if self.depth == 0 => {
                self.complete()?;
                self.at = if b == b']' { At::Done } else { At::Between };
                return Ok(());
            }
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth = self.depth.checked_sub(1).ok_or("malformed JSON list")?;
            }
            _ => {}
        }
        self.item.push(b);
        Ok(())
    }

    fn complete(&mut self) -> Result<(), String> {
        if self.items.len() >= MAX_ITEMS {
            return Err(format!("more than {MAX_ITEMS} items in one answer"));
        }
        let v = serde_json::from_slice(&self.item).map_err(|e| e.to_string())?;
        self.items.push(v);
        // Keep the buffer's capacity only while it is small: one huge item must not pin memory.
        if self.item.capacity() > 64 * 1024 {
            self.item = Vec::new();
        } else {
            self.item.clear();
        }
        Ok(())
    }

    pub fn finish(self) -> Result<Vec<Value>, String> {
        match self.at {
            At::Done => Ok(self.items),
            At::Start => Err("empty answer, expected a JSON list".into()),
            _ => Err("the JSON list ended early".into()),
        }
    }
}

/// The kind of JSON value a first byte starts.
fn what(first: u8) -> &'static str {
    match first {
        b'{' => "an object",
        b'"' => "a string",
        b't' | b'f' => "a boolean",
        b'n' => "null",
        b'-' | b'0'..=b'9' => "a number",
        _ => "something that is not JSON",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn split(chunks: &[&[u8]]) -> Result<Vec<Value>, String> {
        let mut s = ListSplitter::default();
        for c in chunks {
            s.push(c)?;
        }
        s.finish()
    }

    #[test]
    fn items_parse_whatever_the_chunking() {
        let text = br#" [ {"id":"a,]}\"[","n":[1,{"x":"]"}]} , "s\\" , 12, null,[ ] ,{}] "#;
        let want = json!([{"id": "a,]}\"[", "n": [1, {"x": "]"}]}, "s\\", 12, null, [], {}]);
        assert_eq!(Value::Array(split(&[text]).unwrap()), want);
        // One byte at a time: state carries across chunks.
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(Value::Array(split(&bytes).unwrap()), want);
        assert_eq!(split(&[b"[]"]).unwrap(), Vec::<Value>::new());
    }

    #[test]
    fn not_a_list_or_broken_lists_are_errors() {
        assert_eq!(
            split(&[br#"{"payload":"AAAA"}"#]).unwrap_err(),
            "expected a JSON list, got an object"
        );
        assert!(split(&[b"[1,2"]).unwrap_err().contains("ended early"));
        assert!(split(&[b"[1,,2]"]).is_err());
        assert!(split(&[b"[1] x"]).is_err());
        assert!(split(&[b"[{]"]).is_err());
        assert!(split(&[b""]).is_err());
    }

    #[test]
    fn a_list_has_at_most_max_items() {
        let many = format!("[{}1]", "1,".repeat(MAX_ITEMS));
        assert!(
            split(&[many.as_bytes()])
                .unwrap_err()
                .contains("more than 1000 items")
        );
        let ok = format!("[{}1]", "1,".repeat(MAX_ITEMS - 1));
        assert_eq!(split(&[ok.as_bytes()]).unwrap().len(), MAX_ITEMS);
        assert_eq!(
            parse(ok.as_bytes()).unwrap().as_array().map(Vec::len),
            Some(1000)
        );
    }
}
