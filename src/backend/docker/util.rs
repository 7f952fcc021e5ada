//! Small conversions shared by the mappers: sanitised labels, timestamps, sizes, short ids.

use std::collections::HashMap;

use crate::model::Labels;
use crate::term::sanitize::sanitize_plain;

/// The compose project label: what groups containers (and volumes) into a project.
pub const COMPOSE_PROJECT: &str = "com.docker.compose.project";
pub const COMPOSE_WORKDIR: &str = "com.docker.compose.project.working_dir";
pub const COMPOSE_CONFIG_FILES: &str = "com.docker.compose.project.config_files";

/// Labels come from whoever created the object on a possibly remote engine: sanitise both
/// sides, and sort them so rows compare and render stably.
pub fn clean_labels(labels: Option<&HashMap<String, String>>) -> Labels {
    labels
        .into_iter()
        .flatten()
        .map(|(k, v)| (sanitize_plain(k), sanitize_plain(v)))
        .collect()
}

/// Unix seconds from the engine → timestamp; nonsense values become None instead of an error.
pub fn ts_from_secs(secs: i64) -> Option<jiff::Timestamp> {
    if secs <= 0 {
        return None;
    }
    jiff::Timestamp::from_second(secs).ok()
}

/// RFC 3339 text from the engine ("2024-05-01T12:00:00.123456789Z", "...+02:00").
pub fn ts_from_rfc3339(text: Option<&str>) -> Option<jiff::Timestamp> {
    let text = text?.trim();
    // Docker uses the Go zero time for "unknown".
    if text.is_empty() || text.starts_with("0001-01-01") {
        return None;
    }
    text.parse::<jiff::Timestamp>().ok()
}

/// `sha256:0123456789abcdef...` → `0123456789ab`, like `docker ps`/`docker images`.
pub fn short_id(id: &str) -> String {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    id.chars().take(12).collect()
}

/// Decimal units with three significant digits, as `docker images` prints them ("1.98MB").
pub fn human_size(bytes: i64) -> String {
    if bytes < 0 {
        return String::new();
    }
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        return format!("{bytes}B");
    }
    let int_digits = if value >= 100.0 {
        3
    } else if value >= 10.0 {
        2
    } else {
        1
    };
    let decimals = 3usize.saturating_sub(int_digits);
    let mut s = format!("{value:.decimals$}");
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_owned();
    }
    format!("{s}{}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_docker_images() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(1_982_256), "1.98MB");
        assert_eq!(human_size(72_800_000), "72.8MB");
        assert_eq!(human_size(123_456_789), "123MB");
        assert_eq!(human_size(1_000_000_000), "1GB");
    }

    #[test]
    fn ids_are_shortened() {
        assert_eq!(short_id("sha256:0123456789abcdef0123"), "0123456789ab");
        assert_eq!(short_id("abc"), "abc");
    }

    #[test]
    fn go_zero_time_is_unknown() {
        assert_eq!(ts_from_rfc3339(Some("0001-01-01T00:00:00Z")), None);
        assert!(ts_from_rfc3339(Some("2024-05-01T12:00:00.123456789+02:00")).is_some());
    }
}
