//! Progress parsing of updater output, for the update view's gauge.
//!
//! The Mender client prints its download/install progress as percentages (e.g.
//! `Installing artifact... 42%` or a bar ending in `100%`), often several per line when a bar
//! is redrawn with `\r`; the last percentage on a line is the current one. Reboot requests
//! are recognised from the client's wording so the driver knows to reboot and wait.

/// The last `N%` (0..=100) in `line`, if any.
pub fn percent(line: &str) -> Option<u8> {
    let bytes = line.as_bytes();
    let mut found = None;
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'%' {
            continue;
        }
        let digits_start = bytes[..i]
            .iter()
            .rposition(|c| !c.is_ascii_digit())
            .map_or(0, |p| p + 1);
        if digits_start == i || i - digits_start > 3 {
            continue;
        }
        if let Ok(n) = line[digits_start..i].parse::<u16>()
            && n <= 100
        {
            found = Some(n as u8);
        }
    }
    found
}

/// Does the updater say the device must reboot to finish (Mender 3 and 4 wordings)?
pub fn wants_reboot(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    l.contains("reboot your system")
        || l.contains("at least one payload requested a reboot")
        || l.contains("reboot is required")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_percentage_wins() {
        assert_eq!(percent("Installing artifact... 42%"), Some(42));
        assert_eq!(percent("  0% ....  37% ........ 100%"), Some(100));
        assert_eq!(percent("no progress here"), None);
        assert_eq!(percent("disk 1234% weird"), None);
        assert_eq!(percent("100%"), Some(100));
        assert_eq!(percent("%"), None);
    }

    #[test]
    fn reboot_requests_are_recognised() {
        assert!(wants_reboot(
            "At least one payload requested a reboot of the device it updated."
        ));
        assert!(wants_reboot("Use -reboot to reboot your system."));
        assert!(!wants_reboot("Installation done"));
    }
}
