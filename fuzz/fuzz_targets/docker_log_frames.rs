//! Docker log frames → lines: the engine's stream (multiplexed 8-byte-header frames, or raw tty
//! output) fed frame by frame into the per-stream halves of `backend::docker::logs`, which drop
//! the timestamps the engine puts on continuation frames, split, bound and sanitise the lines.
#![no_main]

mod common;

use std::sync::Arc;

use common::{Steps, check_styled};
use fleetdeck::backend::docker::logs::{Half, to_line};
use fleetdeck::term::sanitize::LineSplitter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [mode, stream @ ..] = data else {
        return;
    };
    let label: Option<Arc<str>> = (mode & 2 != 0).then(|| Arc::from("web-1"));
    let mut halves = [Half::default(), Half::default()];
    let mut raw_lines: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut payload_bytes = 0usize;

    if mode & 1 == 0 {
        // Multiplexed (no tty): [stream, 0, 0, 0, size u32 BE] then the payload, as the engine
        // sends it; a truncated last frame carries what is left (a connection cut mid-frame).
        let mut rest = stream;
        while rest.len() >= 8 {
            let kind = rest[0];
            let size = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
            let body = &rest[8..];
            let body = &body[..size.min(body.len())];
            rest = &rest[8 + body.len()..];
            // stdin (0) and stdout (1) share a half like the pipeline does; stderr (2) has its own.
            let h = usize::from(kind % 3 == 2);
            payload_bytes += body.len();
            halves[h].push(body, |l| raw_lines.push((h, l.to_vec())));
        }
    } else {
        // Tty: raw bytes cut wherever the transport cut them.
        let mut steps = Steps::new(*mode);
        let mut rest = stream;
        while !rest.is_empty() {
            let n = steps.next(64).min(rest.len());
            payload_bytes += n;
            halves[0].push(&rest[..n], |l| raw_lines.push((0, l.to_vec())));
            rest = &rest[n..];
        }
    }
    for (h, half) in halves.iter_mut().enumerate() {
        half.finish(|l| raw_lines.push((h, l.to_vec())));
    }

    let total: usize = raw_lines.iter().map(|(_, l)| l.len()).sum();
    assert!(
        total <= payload_bytes,
        "lines hold more than the frames did"
    );
    for (_, raw) in &raw_lines {
        assert!(raw.len() <= LineSplitter::MAX_LINE, "unbounded line");
        let line = to_line(raw, &label);
        assert_eq!(line.source.as_deref(), label.as_deref());
        check_styled(raw, &line.text);
    }
});
