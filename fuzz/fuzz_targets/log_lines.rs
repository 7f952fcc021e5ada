//! The log pipeline's text side: `LineSplitter` (arbitrary chunking), `split_timestamp`,
//! `sanitize`/`sanitize_plain`. Every container, pod and device log line goes through these.
#![no_main]

mod common;

use common::{Steps, assert_clean, check_styled};
use fleetdeck::logs::split_timestamp;
use fleetdeck::term::sanitize::{LineSplitter, sanitize, sanitize_plain};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [seed, repeat, payload @ ..] = data else {
        return;
    };
    // One input in sixteen is repeated into a stream longer than MAX_LINE (64 KiB), so the
    // bounding of endless lines is exercised without 64 KiB inputs.
    let input: Vec<u8> = if *repeat >= 0xf0 && !payload.is_empty() {
        let times = (LineSplitter::MAX_LINE * 2 / payload.len()).clamp(1, 4096) + 1;
        payload.repeat(times)
    } else {
        payload.to_vec()
    };

    let mut splitter = LineSplitter::new();
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut steps = Steps::new(*seed);
    let mut rest = &input[..];
    while !rest.is_empty() {
        // Tiny chunks split escape sequences and CRLF; big ones keep the long streams fast.
        let max = if input.len() > 8192 {
            32 * 1024
        } else if *seed & 1 == 0 {
            16
        } else {
            4096
        };
        let n = steps.next(max).min(rest.len());
        splitter.push(&rest[..n], |l| lines.push(l.to_vec()));
        rest = &rest[n..];
    }
    splitter.finish(|l| lines.push(l.to_vec()));

    // Bounded memory: no emitted line is longer than MAX_LINE, none holds a newline.
    for l in &lines {
        assert!(
            l.len() <= LineSplitter::MAX_LINE,
            "line of {} bytes",
            l.len()
        );
        assert!(!l.contains(&b'\n'), "newline inside a line");
    }
    // Nothing lost, nothing invented: the lines are the input without its line terminators
    // (\n, and a \r right before \n or at the very end).
    let mut expected = Vec::with_capacity(input.len());
    for (i, &b) in input.iter().enumerate() {
        let next = input.get(i + 1);
        if b == b'\n' || (b == b'\r' && (next == Some(&b'\n') || next.is_none())) {
            continue;
        }
        expected.push(b);
    }
    assert_eq!(lines.concat(), expected, "splitter changed the text");

    // The repeated inputs hold many copies of the payload; sanitising the first 16 KiB keeps
    // an execution fast without losing anything the rest would add (the sanitiser has no
    // state across lines, and the long-line bound is checked above for every line).
    let mut budget = 16 * 1024usize;
    for l in &lines {
        if budget < l.len() {
            break;
        }
        budget -= l.len() + 1;
        let (ts, text) = split_timestamp(l);
        assert!(l.ends_with(text), "split_timestamp must return a suffix");
        if ts.is_none() {
            assert_eq!(text.len(), l.len());
        }
        check_styled(text, &sanitize(text));
        let plain = sanitize_plain(&String::from_utf8_lossy(text));
        assert_clean(&plain, "sanitize_plain");
    }
});
