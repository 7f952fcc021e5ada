//! The log pipeline's UI side: a bounded ring buffer and the matcher shared by search and filters.
mod buffer;
mod matcher;

pub use buffer::LogBuffer;
pub use matcher::Matcher;

/// Parse a Docker/RFC 3339 timestamp prefix ("2024-05-01T12:00:00.123456789Z rest") into unix
/// nanoseconds and the rest of the line. Returns (None, whole) when there is no timestamp.
pub fn split_timestamp(line: &[u8]) -> (Option<i64>, &[u8]) {
    if let Some(sp) = line.iter().position(|&b| b == b' ')
        && let Ok(s) = std::str::from_utf8(&line[..sp])
        && let Ok(ts) = s.parse::<jiff::Timestamp>()
    {
        return (i64::try_from(ts.as_nanosecond()).ok(), &line[sp + 1..]);
    }
    (None, line)
}
