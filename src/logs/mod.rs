//! The log pipeline's UI side: a bounded ring buffer and the matcher shared by search and filters.
mod arena;
mod buffer;
pub mod level;
mod line;
pub mod marker;
mod matcher;
mod sources;

pub use buffer::LogBuffer;
pub use line::LineRef;
pub use matcher::Matcher;

/// Parse a Docker/RFC 3339 timestamp prefix ("2024-05-01T12:00:00.123456789Z rest") into unix
/// nanoseconds and the rest of the line. Returns (None, whole) when there is no timestamp.
pub fn split_timestamp(line: &[u8]) -> (Option<i64>, &[u8]) {
    // A stamp past 2262 does not fit in i64 nanoseconds: the line then keeps it as text rather
    // than losing it with no time to show instead (found by fuzzing).
    if let Some(sp) = line.iter().position(|&b| b == b' ')
        && let Ok(s) = std::str::from_utf8(&line[..sp])
        && let Ok(ts) = s.parse::<jiff::Timestamp>()
        && let Ok(ns) = i64::try_from(ts.as_nanosecond())
    {
        return (Some(ns), &line[sp + 1..]);
    }
    (None, line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_is_split_off_and_one_out_of_range_is_kept() {
        assert_eq!(
            split_timestamp(b"1970-01-01T00:00:01.5Z web up"),
            (Some(1_500_000_000), &b"web up"[..])
        );
        assert_eq!(split_timestamp(b"no stamp"), (None, &b"no stamp"[..]));
        // fuzz/log_lines: a year-2358 stamp was dropped from the text with no time kept.
        let far = b"2358-05-01T12:00:00.123456789Z web";
        assert_eq!(split_timestamp(far), (None, &far[..]));
    }
}
