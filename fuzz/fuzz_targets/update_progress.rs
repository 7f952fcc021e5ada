//! An updater's output as the update driver reads it: `Progress::feed` (Mender 3's dot bar and
//! percentages), `display_line`, `percent`, `wants_reboot`, the job follower's end marker
//! (`job::parse_mark`) per line, and `client_reason` over the whole output.
#![no_main]

use fleetdeck::rollout::job::{JobEnd, parse_mark};
use fleetdeck::rollout::progress::{Progress, client_reason, display_line, percent, wants_reboot};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let output = String::from_utf8_lossy(data);
    let mut bar = Progress::default();
    for line in output.lines() {
        if let Some(p) = bar.feed(line) {
            assert!(p <= 100, "progress {p}%");
        }
        if let Some(p) = percent(line) {
            assert!(p <= 100, "percent {p}");
        }
        if let Some(shown) = display_line(line) {
            // The message and level come out of the line itself (at most both overlapping).
            assert!(
                shown.len() <= 2 * line.len() + 2,
                "shown {} bytes of a {}-byte line",
                shown.len(),
                line.len()
            );
            assert!(!shown.is_empty());
        }
        let _ = wants_reboot(line);
        if let Some(end) = parse_mark(line) {
            assert!(line.contains("@@fleetdeck-job"), "{end:?} from {line:?}");
            if let JobEnd::Exited(code) = end {
                // Anything that is not a number reads as -1, never as success.
                assert!(code != 0 || line.contains('0'), "exit 0 from {line:?}");
            }
        }
    }
    if let Some(reason) = client_reason(&output) {
        assert!(!reason.is_empty());
        assert!(
            reason.len() <= output.len(),
            "reason longer than the output"
        );
        assert!(!reason.contains('\n'), "a reason is one line");
    }
});
