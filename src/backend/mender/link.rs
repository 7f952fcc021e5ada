//! `Link` response headers (RFC 8288) as Mender sends them: one header LINE per rel, in an
//! order that differs between server generations, and possibly several comma-separated links on
//! one line (a proxy may fold lines). Only the parsing lives here; resolving a target against
//! the request URL is the pager's job.
//!
//! Upstream: every service adds one line per link (`Header().Add("Link", l)`,
//! mender-server backend/services/inventory/api/http/api_inventory.go:302-304); the monorepo
//! emits first, prev, next, last (backend/pkg/rest.utils/paging.go:157-194); go-lib-micro
//! (services <= 3.7) emits prev, next, first (mendersoftware/go-lib-micro rest_utils/paging.go
//! `MakePageLinkHdrs`); old inventory the same order with a bare relative target
//! `<devices?page=2&per_page=N>` (mendersoftware/inventory utils/http.go `MakeLink`).

/// One link: its raw target (not resolved) and its relation types, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub target: String,
    pub rels: Vec<String>,
}

impl Link {
    pub fn has_rel(&self, rel: &str) -> bool {
        self.rels.iter().any(|r| r == rel)
    }
}

/// Every link of every `Link` line, in the order received. Malformed parts are skipped (a
/// broken link must not hide the good ones next to it).
pub fn parse_all<'a>(lines: impl IntoIterator<Item = &'a str>) -> Vec<Link> {
    lines.into_iter().flat_map(parse_line).collect()
}

/// The target of the first link with `rel`, over all lines.
pub fn find<'a>(lines: impl IntoIterator<Item = &'a str>, rel: &str) -> Option<String> {
    parse_all(lines)
        .into_iter()
        .find(|l| l.has_rel(rel))
        .map(|l| l.target)
}

/// The links of one header line: `<uri>; rel="next"; title="x", <uri2>; rel=first`.
fn parse_line(line: &str) -> Vec<Link> {
    let mut out = Vec::new();
    let mut rest = line;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        let Some(after_lt) = rest.strip_prefix('<') else {
            // Not a link start: skip to the next top-level comma, if any.
            match skip_to_comma(rest) {
                Some(r) => {
                    rest = r;
                    continue;
                }
                None => return out,
            }
        };
        // A URI reference cannot contain '>' (RFC 3986), so the first one closes it.
        let Some(end) = after_lt.find('>') else {
            return out;
        };
        let target = after_lt[..end].trim().to_string();
        let (params, next) = split_params(&after_lt[end + 1..]);
        let rels = params
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("rel"))
            // RFC 8288 3.3: rel may list several types separated by spaces.
            .flat_map(|(_, v)| v.split_whitespace().map(|r| r.to_ascii_lowercase()))
            .collect();
        out.push(Link { target, rels });
        match next {
            Some(r) => rest = r,
            None => return out,
        }
    }
}

/// The `; name=value` parameters after a target, up to the comma that starts the next link.
/// Returns them and what follows that comma (None at the end of the line).
fn split_params(mut s: &str) -> (Vec<(String, String)>, Option<&str>) {
    let mut params = Vec::new();
    loop {
        s = s.trim_start();
        if let Some(r) = s.strip_prefix(',') {
            return (params, Some(r));
        }
        let Some(r) = s.strip_prefix(';') else {
            // End of line, or garbage: skip to the next comma.
            return (params, skip_to_comma(s));
        };
        s = r.trim_start();
        let name_end = s
            .find(|c: char| c == '=' || c == ';' || c == ',' || c.is_whitespace())
            .unwrap_or(s.len());
        let name = s[..name_end].to_string();
        s = s[name_end..].trim_start();
        let mut value = String::new();
        if let Some(r) = s.strip_prefix('=') {
            s = r.trim_start();
            if let Some(r) = s.strip_prefix('"') {
                // quoted-string with backslash escapes
                let mut chars = r.char_indices();
                let mut end = r.len();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, e)) = chars.next() {
                                value.push(e);
                            }
                        }
                        '"' => {
                            end = i + 1;
                            break;
                        }
                        c => value.push(c),
                    }
                }
                s = &r[end.min(r.len())..];
            } else {
                let end = s.find([';', ',']).unwrap_or(s.len());
                value = s[..end].trim().to_string();
                s = &s[end..];
            }
        }
        if !name.is_empty() {
            params.push((name, value));
        }
    }
}

/// What follows the next comma outside a quoted string.
fn skip_to_comma(s: &str) -> Option<&str> {
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => return Some(&s[i + 1..]),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_is_read_whatever_the_order() {
        // mender-server: first, prev, next, last on separate lines.
        let mono = [
            r#"</api/management/v2/devauth/devices?page=1&per_page=500>; rel="first""#,
            r#"</api/management/v2/devauth/devices?page=1&per_page=500>; rel="prev""#,
            r#"</api/management/v2/devauth/devices?page=3&per_page=500>; rel="next""#,
            r#"</api/management/v2/devauth/devices?page=4&per_page=500>; rel="last""#,
        ];
        assert_eq!(
            find(mono, "next").as_deref(),
            Some("/api/management/v2/devauth/devices?page=3&per_page=500")
        );
        // go-lib-micro: prev, next, first.
        let old = [
            r#"<devices?page=1&per_page=500>; rel="prev""#,
            r#"<devices?page=3&per_page=500>; rel="next""#,
            r#"<devices?page=1&per_page=500>; rel="first""#,
        ];
        assert_eq!(
            find(old, "next").as_deref(),
            Some("devices?page=3&per_page=500")
        );
        assert_eq!(find(old, "last"), None);
    }

    #[test]
    fn several_links_on_one_line_and_odd_spacing() {
        let line = r#"<https://m/a?page=1>; rel="first",<https://m/a?page=2>;rel=next ; title="a, b", <https://m/a?page=9>; rel="last""#;
        let links = parse_all([line]);
        assert_eq!(links.len(), 3, "{links:?}");
        assert_eq!(links[1].target, "https://m/a?page=2");
        assert!(links[1].has_rel("next"));
        assert!(links[2].has_rel("last"));
    }

    #[test]
    fn rel_lists_case_and_garbage() {
        let links = parse_all([r#"<x?page=2>; REL="Next Last""#, "garbage, <y>; rel=next"]);
        assert!(links[0].has_rel("next") && links[0].has_rel("last"));
        assert_eq!(links[1].target, "y");
        assert!(parse_all(["<unterminated; rel=next"]).is_empty());
        assert!(parse_all([""]).is_empty());
    }
}
