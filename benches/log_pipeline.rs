//! Throughput of the log pipeline, in lines per second: the same steps the Docker log task
//! (`src/backend/docker/logs.rs`) and the log view run for every line, without the engine and
//! the terminal:
//!
//!   byte stream → `LineSplitter` → `split_timestamp` (Docker RFC 3339 prefix) → `sanitize`
//!   → `LogLine` → batches of 1,000 → `LogBuffer::push_batch` (capacity 100,000, kept full so
//!   every pushed line also drops the oldest one).
//!
//! The stream is synthetic but shaped like real container output, every line with the
//! `2024-05-01T12:00:00.123456789Z ` prefix that `docker logs --timestamps` adds:
//!
//! | share | kind                                                            | sanitize path |
//! |-------|-----------------------------------------------------------------|---------------|
//! | 60 %  | plain ASCII, ~100 bytes (access log, JSON, key=value)           | fast path     |
//! | 20 %  | SGR colours (levels, bold, 256-colour, truecolor)               | vte           |
//! |  8 %  | tabs (stack-trace frames, tab-separated fields)                 | vte           |
//! |  7 %  | other escapes: CR progress bars, `ESC[2K`, cursor moves, OSC 0 title | vte      |
//! |  5 %  | non-ASCII UTF-8 text                                            | vte           |
//!
//! `cargo bench --bench log_pipeline`
//!
//! Besides the full pipeline (fed in arbitrary 16 KiB chunks, and one engine frame per line as
//! `docker logs -f` delivers them), the steps are measured alone to show where the time goes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure stops at its line"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use fleetdeck::logs::{LogBuffer, split_timestamp};
use fleetdeck::model::LogLine;
use fleetdeck::term::sanitize::{LineSplitter, sanitize};

/// Lines per measured iteration.
const LINES: usize = 20_000;
/// The log view's default ring size (`logs.buffer_lines`).
const BUFFER: usize = 100_000;
/// The Docker log task's batch size (`BATCH_LINES`).
const BATCH: usize = 1_000;
/// Chunk size for the "arbitrary chunks" variant (lines straddle chunk boundaries).
const CHUNK: usize = 16 * 1024;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const PATHS: &[&str] = &[
    "/api/v1/orders",
    "/api/v1/customers/search",
    "/healthz",
    "/static/js/app.min.js",
    "/api/v2/inventory/items",
];
const WORDS: &[&str] = &[
    "scheduler",
    "worker",
    "billing",
    "gateway",
    "indexer",
    "mailer",
];

/// One line of container output (without timestamp and newline).
fn body(rng: &mut Rng, out: &mut Vec<u8>) {
    use std::io::Write;
    let kind = rng.below(100);
    let n = rng.below(100_000);
    let path = PATHS[rng.below(PATHS.len() as u64) as usize];
    let word = WORDS[rng.below(WORDS.len() as u64) as usize];
    let ms = rng.below(900);
    let _ = match kind {
        // 60 % plain printable ASCII.
        0..=19 => write!(
            out,
            "10.{}.{}.{} - - \"GET {path}?page={} HTTP/1.1\" 200 {} \"-\" \"Mozilla/5.0 (X11)\" rt=0.{ms:03}",
            n % 256,
            n / 256 % 256,
            n % 200,
            n % 50,
            n * 7 % 65536
        ),
        20..=39 => write!(
            out,
            "{{\"level\":\"info\",\"logger\":\"{word}\",\"msg\":\"request served\",\"path\":\"{path}\",\"status\":200,\"dur_ms\":{ms},\"req\":{n}}}"
        ),
        40..=59 => write!(
            out,
            "level=debug component={word} msg=\"cache lookup\" key=user:{n}:profile hit=true latency_us={ms} shard={}",
            n % 16
        ),
        // 20 % SGR colours.
        60..=69 => write!(
            out,
            "\x1b[32mINFO\x1b[0m [{word}-{}] \x1b[1mjob {n} finished\x1b[0m in \x1b[38;5;208m{ms}ms\x1b[0m queue=default retries=0",
            n % 8
        ),
        70..=74 => write!(
            out,
            "\x1b[1;31mERROR\x1b[0m \x1b[2m{word}\x1b[22m: upstream {path} returned \x1b[38;2;255;95;0m502\x1b[39m after {ms} ms (attempt {})",
            n % 5
        ),
        75..=79 => write!(
            out,
            "\x1b[33mWARN\x1b[m  \x1b[36m{word}\x1b[m slow query on \x1b[4morders\x1b[24m: {ms} ms, rows={n} \x1b[90m(threshold 250 ms)\x1b[0m"
        ),
        // 8 % tabs.
        80..=84 => write!(
            out,
            "\tat com.example.{word}.service.OrderService.process(OrderService.java:{})",
            n % 900
        ),
        85..=87 => write!(
            out,
            "{n}\t{word}\t{path}\t{ms}\tOK\tcache-miss\tregion=eu-west-1"
        ),
        // 7 % other escapes and controls.
        88..=90 => write!(
            out,
            "\r\x1b[2K[{:<20}] {}% downloading layer sha256:{n:08x}{ms:04x}",
            "=".repeat((ms % 20) as usize),
            ms % 100
        ),
        91..=92 => write!(
            out,
            "\x1b]0;{word}: step {n}\x07\x1b[1A\x1b[Gstep {n} of 100000 done, {ms} ms, next: {path}"
        ),
        93..=94 => write!(
            out,
            "\x1b[H\x1b[2J{word} dashboard refresh #{n}: \x1b[7m {ms} req/s \x1b[27m\x08\x08 ok\x1b[K"
        ),
        // 5 % non-ASCII.
        _ => write!(
            out,
            "INFO użytkownik {n} zalogował się — résumé ✓ 東京 région={word} durée={ms} ms → {path}"
        ),
    };
}

/// A Docker-timestamped stream of `lines` lines whose timestamps continue from `*next_ns`
/// (so the buffer, which orders by timestamp, only ever appends, as with a live container).
fn stream(rng: &mut Rng, next_ns: &mut i64, lines: usize) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::with_capacity(lines * 140);
    for _ in 0..lines {
        // ~50k lines/s with jitter: 10..30 µs apart.
        *next_ns += 10_000 + rng.below(20_000) as i64;
        let ts = jiff::Timestamp::from_nanosecond(i128::from(*next_ns)).expect("timestamp");
        let _ = write!(out, "{ts} ");
        body(rng, &mut out);
        out.push(b'\n');
    }
    out
}

/// The pipeline step per line: timestamp, sanitize, model line.
fn to_line(raw: &[u8]) -> LogLine {
    let (ts, rest) = split_timestamp(raw);
    LogLine {
        ts,
        source: None,
        text: sanitize(rest),
        marker: false,
    }
}

/// Feed `frames` through the whole pipeline into `buf`; returns the number of lines.
fn pipeline<'a>(frames: impl Iterator<Item = &'a [u8]>, buf: &mut LogBuffer) -> usize {
    let mut splitter = LineSplitter::new();
    let mut pending: Vec<LogLine> = Vec::with_capacity(BATCH);
    let mut n = 0;
    for frame in frames {
        splitter.push(frame, |line| {
            pending.push(to_line(line));
            n += 1;
            if pending.len() >= BATCH {
                buf.push_batch(std::mem::replace(&mut pending, Vec::with_capacity(BATCH)));
            }
        });
    }
    splitter.finish(|line| {
        pending.push(to_line(line));
        n += 1;
    });
    if !pending.is_empty() {
        buf.push_batch(pending);
    }
    n
}

/// One engine frame per line, as `docker logs -f` frames a json-file container's output.
fn line_frames(data: &[u8]) -> Vec<&[u8]> {
    data.split_inclusive(|&b| b == b'\n').collect()
}

/// A buffer already at capacity, so every measured push also evicts a line.
fn full_buffer(rng: &mut Rng, next_ns: &mut i64) -> LogBuffer {
    let mut buf = LogBuffer::new(BUFFER);
    let data = stream(rng, next_ns, BUFFER);
    pipeline(data.chunks(CHUNK), &mut buf);
    assert_eq!(buf.len(), BUFFER);
    buf
}

fn benches(c: &mut Criterion) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // 2024-05-01T12:00:00Z
    let mut next_ns: i64 = 1_714_564_800_000_000_000;

    // Sanity: the sample stream has the intended shape.
    {
        let mut r = Rng(1);
        let mut t = 0;
        let data = stream(&mut r, &mut t, 10_000);
        let mut buf = LogBuffer::new(BUFFER);
        let lines = pipeline(data.chunks(CHUNK), &mut buf);
        assert_eq!(lines, 10_000);
        let styled = buf.iter().filter(|l| l.runs().len() > 0).count();
        let stamped = buf.iter().filter(|l| l.ts.is_some()).count();
        assert_eq!(stamped, 10_000, "every line carries a Docker timestamp");
        eprintln!(
            "sample stream: {} bytes for 10,000 lines ({:.0} B/line incl. 31 B timestamp), {:.0} % with SGR runs, {:.0} % outside the ASCII fast path",
            data.len(),
            data.len() as f64 / 10_000.0,
            styled as f64 / 100.0,
            data.split(|&b| b == b'\n')
                .filter(|l| !l.is_empty() && !l.iter().all(|&b| (0x20..0x7f).contains(&b)))
                .count() as f64
                / 100.0
        );
    }

    let mut g = c.benchmark_group("log_pipeline");
    g.throughput(Throughput::Elements(LINES as u64));
    g.sample_size(30);
    g.measurement_time(Duration::from_secs(8));

    // The full pipeline: arbitrary 16 KiB chunks into a full 100k ring.
    let mut buf = full_buffer(&mut rng, &mut next_ns);
    g.bench_function("full pipeline, 16 KiB chunks", |b| {
        b.iter_batched(
            || stream(&mut rng, &mut next_ns, LINES),
            |data| {
                let n = pipeline(data.chunks(CHUNK), &mut buf);
                debug_assert_eq!(n, LINES);
                data
            },
            BatchSize::LargeInput,
        )
    });
    assert_eq!(buf.len(), BUFFER);
    black_box(buf.dropped());
    drop(buf);

    // The same with one frame per line (Docker's framing for `docker logs -f`).
    let mut buf = full_buffer(&mut rng, &mut next_ns);
    g.bench_function("full pipeline, one frame per line", |b| {
        b.iter_batched(
            || stream(&mut rng, &mut next_ns, LINES),
            |data| {
                let n = pipeline(line_frames(&data).into_iter(), &mut buf);
                debug_assert_eq!(n, LINES);
                data
            },
            BatchSize::LargeInput,
        )
    });
    drop(buf);

    // The steps alone, on one fixed stream (no buffer, so timestamps need not advance).
    let data = stream(&mut rng, &mut next_ns, LINES);
    let lines: Vec<&[u8]> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), LINES);

    g.bench_function("step LineSplitter", |b| {
        b.iter(|| {
            let mut sp = LineSplitter::new();
            let mut n = 0usize;
            for chunk in data.chunks(CHUNK) {
                sp.push(chunk, |l| n += l.len());
            }
            sp.finish(|l| n += l.len());
            black_box(n)
        })
    });
    g.bench_function("step split_timestamp", |b| {
        b.iter(|| {
            let mut sum = 0i64;
            for l in &lines {
                let (ts, rest) = split_timestamp(l);
                sum = sum.wrapping_add(ts.unwrap_or(0)) ^ rest.len() as i64;
            }
            black_box(sum)
        })
    });
    let bodies: Vec<&[u8]> = lines.iter().map(|l| split_timestamp(l).1).collect();
    g.bench_function("step sanitize", |b| {
        b.iter_batched(
            || Vec::with_capacity(LINES),
            |mut out| {
                for body in &bodies {
                    out.push(sanitize(body));
                }
                out
            },
            BatchSize::LargeInput,
        )
    });

    let mut buf = full_buffer(&mut rng, &mut next_ns);
    g.bench_function("step LogBuffer push_batch", |b| {
        b.iter_batched(
            || {
                let data = stream(&mut rng, &mut next_ns, LINES);
                let mut batches: Vec<Vec<LogLine>> = Vec::with_capacity(LINES / BATCH + 1);
                let mut cur = Vec::with_capacity(BATCH);
                for l in data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                    cur.push(to_line(l));
                    if cur.len() == BATCH {
                        batches.push(std::mem::replace(&mut cur, Vec::with_capacity(BATCH)));
                    }
                }
                if !cur.is_empty() {
                    batches.push(cur);
                }
                batches
            },
            |batches| {
                for batch in batches {
                    buf.push_batch(batch);
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(log_pipeline, benches);
criterion_main!(log_pipeline);
