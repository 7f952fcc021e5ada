//! A log stream read on a thread of its own, in large reads a millisecond apart.
//!
//! Why not hyper's body stream, as every other request: the engine writes one HTTP chunk per
//! log line and flushes each, and a reader woken by each write takes them one at a time. The
//! console did (`strace`: one 53-byte read per line) and received ~100k lines/s whatever the
//! engine could give; each wake-up also costs the engine, which shares the machine's cores with
//! it. A reader that sleeps between reads leaves nothing waiting on the socket: the engine's
//! writes pile up in the socket's buffer at no cost to anyone, and one read takes hundreds of
//! lines. Measured with a Python reader on one engine (PERFORMANCE §21): blocking reads back
//! to back got 321–374k lines/s at 35 % CPU, the same with a 1 ms sleep after each read 462k
//! at 8–9 %, and the pause spent waiting in `epoll` instead (as a sleeping tokio task would: its
//! socket stays registered, so each write still wakes the thread) 256–283k at 37 %. Hence a
//! plain thread and blocking reads.
//!
//! Only for the endpoints this module can dial itself: the unix socket and plain TCP. Verified
//! TLS and `ssh://` are read through bollard as before ([`open`] says None).
//!
//! The exchange is the one bollard makes: `GET /containers/{id}/logs` (or `/tasks/{id}/logs`)
//! without a version prefix (bollard's URI join drops it too), the options as bollard encodes
//! them, the answer de-chunked and split into frames as bollard's `NewlineLogOutputDecoder`
//! does (a first byte above 2 means a TTY's raw stream: one `Console` frame per line). An error
//! status becomes bollard's `DockerResponseServerError` with the engine's `message`, a broken
//! or cut-off connection an `IOError` (the view reconnects), an answer no engine sends a
//! `DockerStreamError` (shown, not retried), so the caller tells them apart as it did.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::errors::Error;
use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;

use super::connect::Endpoint;

/// The pause after a read that did not fill the buffer: long enough for hundreds of lines to
/// gather at a flood's rate, too short for anyone to see on a quiet log.
const PACE: Duration = Duration::from_millis(1);
/// One read's buffer: a millisecond of the fastest engine measured is ~32 KiB.
const READ: usize = 64 * 1024;
/// The most bytes of status line and headers, and of an error's body.
const HEAD_MAX: usize = 64 * 1024;
/// How often a quiet stream looks whether its view is gone (the thread then ends).
const LOOK: Duration = Duration::from_millis(250);
/// Batches in flight: a full queue stops the reads, and the engine waits (bounded memory).
const QUEUE: usize = 4;
/// The thread does little: head parsing, frame splitting.
const STACK: usize = 256 * 1024;

/// Frames of one read, or the error that ended the stream (always last).
pub type Batch = Vec<Result<LogOutput, Error>>;

/// Start reading `path_and_query` (`/containers/ID/logs?…`) from the engine at `endpoint`;
/// None when this endpoint is read through bollard instead, or no thread could be started.
pub fn open(endpoint: &Endpoint, path_and_query: String) -> Option<mpsc::Receiver<Batch>> {
    let dial = match endpoint {
        Endpoint::Unix(p) => Dial::Unix(p.clone()),
        Endpoint::Http { addr } => Dial::Tcp(addr.clone()),
        Endpoint::Tls { .. } | Endpoint::Ssh { .. } => return None,
    };
    let (tx, rx) = mpsc::channel(QUEUE);
    std::thread::Builder::new()
        .name("fleetdeck-log".into())
        .stack_size(STACK)
        .spawn(move || {
            // Ended by the engine or by the view: nothing to say. Failed: the view's last batch.
            if let Err(Stop::Failed(e)) = exchange(&dial, &path_and_query, &tx) {
                let _ = tx.blocking_send(vec![Err(e)]);
            }
        })
        .map_err(|e| tracing::warn!(error = %e, "no thread for a log stream; bollard reads it"))
        .ok()?;
    Some(rx)
}

enum Dial {
    Unix(std::path::PathBuf),
    /// `host:port`
    Tcp(String),
}

enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Conn {
    fn dial(dial: &Dial) -> io::Result<(Conn, String)> {
        match dial {
            Dial::Unix(p) => Ok((Conn::Unix(UnixStream::connect(p)?), "docker".into())),
            Dial::Tcp(addr) => {
                let mut last =
                    io::Error::new(io::ErrorKind::NotFound, format!("{addr}: no address"));
                for a in addr.to_socket_addrs()? {
                    match TcpStream::connect_timeout(&a, Duration::from_secs(10)) {
                        Ok(s) => {
                            let _ = s.set_nodelay(true);
                            return Ok((Conn::Tcp(s), addr.clone()));
                        }
                        Err(e) => last = e,
                    }
                }
                Err(last)
            }
        }
    }

    fn set_read_timeout(&self, t: Duration) -> io::Result<()> {
        match self {
            Conn::Unix(s) => s.set_read_timeout(Some(t)),
            Conn::Tcp(s) => s.set_read_timeout(Some(t)),
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Unix(s) => s.read(buf),
            Conn::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Unix(s) => s.write(buf),
            Conn::Tcp(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Why reading stopped without an error to show.
enum Stop {
    /// The view is gone.
    Gone,
    Failed(Error),
}

impl From<io::Error> for Stop {
    fn from(err: io::Error) -> Self {
        Stop::Failed(Error::IOError { err })
    }
}

/// An answer that is not what an engine sends: shown as it is, not retried.
fn bad(what: &str) -> Stop {
    Stop::Failed(Error::DockerStreamError {
        error: what.to_owned(),
    })
}

/// Send the request and read the answer into batches until the engine ends it.
fn exchange(dial: &Dial, path_and_query: &str, tx: &mpsc::Sender<Batch>) -> Result<(), Stop> {
    let (mut conn, host) = Conn::dial(dial)?;
    conn.write_all(
        format!("GET {path_and_query} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: fleetdeck\r\n\r\n")
            .as_bytes(),
    )?;
    conn.set_read_timeout(LOOK)?;
    let mut buf = vec![0u8; READ];
    let mut reader = Reader {
        conn: &mut conn,
        tx,
    };

    // The head, and whatever of the body came with it.
    let mut head: Vec<u8> = Vec::new();
    let (status, framing, body_start) = loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            // As a dropped connection: the engine may be restarting, so the view retries.
            return Err(Stop::from(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the engine closed the connection before answering",
            )));
        }
        head.extend_from_slice(&buf[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut res = httparse::Response::new(&mut headers);
        match res.parse(&head) {
            Ok(httparse::Status::Complete(len)) => {
                let status = res.code.unwrap_or(0);
                break (status, Framing::of(res.headers), len);
            }
            Ok(httparse::Status::Partial) if head.len() < HEAD_MAX => {}
            Ok(httparse::Status::Partial) => {
                return Err(bad("the engine's answer head is too large"));
            }
            Err(e) => return Err(bad(&format!("the engine's answer is not HTTP: {e}"))),
        }
    };
    let mut body = Body::new(framing);
    let mut frames = Frames::default();
    let first = head.split_off(body_start);

    if !(200..300).contains(&status) {
        let mut text = BytesMut::new();
        let mut done = body.feed(&first, &mut text)?;
        while !done && text.len() < HEAD_MAX {
            let n = reader.read(&mut buf)?;
            done = n == 0 || body.feed(&buf[..n], &mut text)?;
        }
        return Err(Stop::Failed(Error::DockerResponseServerError {
            status_code: status,
            message: error_message(&text),
        }));
    }

    let mut payload = BytesMut::with_capacity(READ);
    let mut done = body.feed(&first, &mut payload)?;
    reader.send(frames.split(&mut payload))?;
    while !done {
        let n = reader.read(&mut buf)?;
        if n == 0 && body.framing != Framing::Close {
            // Cut off before its end (the engine stopped or restarted): a lost connection,
            // as hyper says it, so the view reconnects behind a marker.
            return Err(Stop::from(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the engine closed the log stream before its end",
            )));
        }
        done = n == 0 || body.feed(&buf[..n], &mut payload)?;
        reader.send(frames.split(&mut payload))?;
        if n < READ && !done {
            std::thread::sleep(PACE);
        }
    }
    // What is left without its end (a TTY's last line without a newline), as bollard does.
    if !payload.is_empty() {
        reader.send(vec![Ok(LogOutput::Console {
            message: payload.freeze(),
        })])?;
    }
    Ok(())
}

/// The connection and the view's queue.
struct Reader<'a> {
    conn: &'a mut Conn,
    tx: &'a mpsc::Sender<Batch>,
}

impl Reader<'_> {
    /// A read that waits for data, looking every [`LOOK`] whether the view is gone.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Stop> {
        loop {
            match self.conn.read(buf) {
                Ok(n) => return Ok(n),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) =>
                {
                    if self.tx.is_closed() {
                        return Err(Stop::Gone);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn send(&self, batch: Batch) -> Result<(), Stop> {
        if batch.is_empty() {
            return Ok(());
        }
        self.tx.blocking_send(batch).map_err(|_| Stop::Gone)
    }
}

/// The engine's `{"message": "..."}`, or the body's text.
fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Message {
        message: String,
    }
    serde_json::from_slice::<Message>(body)
        .map(|m| m.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).trim().to_owned())
}

/// How the body's end is known.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Framing {
    Chunked,
    Length(u64),
    /// Until the engine closes the connection.
    Close,
}

impl Framing {
    fn of(headers: &[httparse::Header<'_>]) -> Framing {
        let value = |name: &str| {
            headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
        };
        if value("transfer-encoding").is_some_and(|v| v.ends_with("chunked")) {
            Framing::Chunked
        } else if let Some(n) = value("content-length").and_then(|v| v.parse().ok()) {
            Framing::Length(n)
        } else {
            Framing::Close
        }
    }
}

/// A body's bytes, freed of its framing.
struct Body {
    framing: Framing,
    /// Chunked: bytes of a chunk-size line not complete yet.
    pending: Vec<u8>,
    /// Chunked: data bytes left in the current chunk.
    left: u64,
    /// Chunked: the CRLF after a chunk's data is still to skip (bytes of it left).
    crlf: u8,
}

impl Body {
    fn new(framing: Framing) -> Body {
        Body {
            framing,
            pending: Vec::new(),
            left: 0,
            crlf: 0,
        }
    }

    /// Append the body bytes in `input` to `out`; true when the body is complete.
    fn feed(&mut self, input: &[u8], out: &mut BytesMut) -> Result<bool, Stop> {
        match self.framing {
            Framing::Close => {
                out.extend_from_slice(input);
                Ok(false)
            }
            Framing::Length(mut left) => {
                copy_up_to(input, &mut left, out);
                self.framing = Framing::Length(left);
                Ok(left == 0)
            }
            Framing::Chunked => self.dechunk(input, out),
        }
    }

    fn dechunk(&mut self, input: &[u8], out: &mut BytesMut) -> Result<bool, Stop> {
        if self.pending.is_empty() {
            return self.dechunk_from(input, out);
        }
        // A chunk-size line was split across reads: join it to what follows (a few bytes, rare).
        let mut joined = std::mem::take(&mut self.pending);
        joined.extend_from_slice(input);
        self.dechunk_from(&joined, out)
    }

    fn dechunk_from(&mut self, mut input: &[u8], out: &mut BytesMut) -> Result<bool, Stop> {
        loop {
            if self.left > 0 {
                input = &input[copy_up_to(input, &mut self.left, out)..];
                if self.left > 0 {
                    return Ok(false);
                }
                self.crlf = 2;
            }
            while self.crlf > 0 {
                let Some((&b, rest)) = input.split_first() else {
                    return Ok(false);
                };
                if b != if self.crlf == 2 { b'\r' } else { b'\n' } {
                    return Err(bad("the engine's chunked answer is malformed"));
                }
                self.crlf -= 1;
                input = rest;
            }
            if input.is_empty() {
                return Ok(false);
            }
            match httparse::parse_chunk_size(input) {
                // The last chunk (its trailers are not read: the stream is over).
                Ok(httparse::Status::Complete((_, 0))) => return Ok(true),
                Ok(httparse::Status::Complete((used, size))) => {
                    self.left = size;
                    input = &input[used..];
                }
                Ok(httparse::Status::Partial) if input.len() <= 1024 => {
                    self.pending = input.to_vec();
                    return Ok(false);
                }
                _ => return Err(bad("the engine's chunked answer is malformed")),
            }
        }
    }
}

/// Copy up to `left` bytes of `input` to `out`, counting them off `left`; returns how many.
fn copy_up_to(input: &[u8], left: &mut u64, out: &mut BytesMut) -> usize {
    let n = input
        .len()
        .min(usize::try_from(*left).unwrap_or(usize::MAX));
    out.extend_from_slice(&input[..n]);
    *left -= n as u64;
    n
}

/// Docker's stream frames out of the de-chunked payload.
#[derive(Default)]
struct Frames {
    /// A multiplexed frame's stream type and length, once its header was read.
    header: Option<(u8, usize)>,
}

impl Frames {
    /// Every complete frame at the front of `payload`, removed from it.
    fn split(&mut self, payload: &mut BytesMut) -> Batch {
        let mut out = Vec::new();
        loop {
            let Some((kind, len)) = self.header else {
                match payload.first() {
                    None => break,
                    // A TTY's raw stream: no header, one frame per line.
                    Some(&b) if b > 2 => match payload.iter().position(|&b| b == b'\n') {
                        Some(nl) => {
                            let message = payload.split_to(nl + 1).freeze();
                            out.push(Ok(LogOutput::Console { message }));
                            continue;
                        }
                        None => break,
                    },
                    Some(_) if payload.len() < 8 => break,
                    Some(_) => {
                        let h = payload.split_to(8);
                        let len = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
                        self.header = Some((h[0], len));
                        continue;
                    }
                }
            };
            if payload.len() < len {
                break;
            }
            self.header = None;
            let message: Bytes = payload.split_to(len).freeze();
            out.push(Ok(match kind {
                0 => LogOutput::StdIn { message },
                2 => LogOutput::StdErr { message },
                _ => LogOutput::StdOut { message },
            }));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dechunk_in_pieces(wire: &[u8], step: usize) -> (Vec<u8>, bool) {
        let mut body = Body::new(Framing::Chunked);
        let mut out = BytesMut::new();
        let mut done = false;
        for piece in wire.chunks(step) {
            // What follows the last chunk (its trailers' end) is not read.
            if done {
                break;
            }
            done = body.feed(piece, &mut out).ok().expect("well-formed");
        }
        (out.to_vec(), done)
    }

    #[test]
    fn chunks_decode_however_the_reads_split_them() {
        let wire = b"5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n";
        for step in 1..=wire.len() {
            let (out, done) = dechunk_in_pieces(wire, step);
            assert_eq!(out, b"helloabcdefghijklmnopqrstuvwxyz", "step {step}");
            assert!(done, "step {step}");
        }
    }

    #[test]
    fn a_malformed_chunk_is_an_error_not_a_panic() {
        for wire in [
            &b"zz\r\nhi\r\n"[..],
            b"2\r\nhiXX",
            b"FFFFFFFFFFFFFFFFFFFF\r\n",
        ] {
            let mut body = Body::new(Framing::Chunked);
            assert!(body.feed(wire, &mut BytesMut::new()).is_err());
        }
    }

    #[test]
    fn a_length_framed_body_ends_at_its_length() {
        let mut body = Body::new(Framing::Length(4));
        let mut out = BytesMut::new();
        assert!(!body.feed(b"ab", &mut out).ok().unwrap());
        assert!(body.feed(b"cdEXTRA", &mut out).ok().unwrap());
        assert_eq!(&out[..], b"abcd");
    }

    fn texts(batch: Batch) -> Vec<(char, String)> {
        batch
            .into_iter()
            .map(|f| match f.unwrap() {
                LogOutput::StdOut { message } => ('o', message),
                LogOutput::StdErr { message } => ('e', message),
                LogOutput::StdIn { message } => ('i', message),
                LogOutput::Console { message } => ('c', message),
            })
            .map(|(k, m)| (k, String::from_utf8_lossy(&m).into_owned()))
            .collect()
    }

    #[test]
    fn multiplexed_frames_split_across_reads() {
        let mut wire = Vec::new();
        for (kind, text) in [(1u8, "out line\n"), (2, "err line\n"), (1, "")] {
            wire.extend_from_slice(&[kind, 0, 0, 0]);
            wire.extend_from_slice(&(text.len() as u32).to_be_bytes());
            wire.extend_from_slice(text.as_bytes());
        }
        let mut frames = Frames::default();
        let mut payload = BytesMut::new();
        let mut got = Vec::new();
        for b in &wire {
            payload.extend_from_slice(&[*b]);
            got.extend(texts(frames.split(&mut payload)));
        }
        assert_eq!(
            got,
            [
                ('o', "out line\n".into()),
                ('e', "err line\n".into()),
                ('o', String::new())
            ]
        );
        assert!(payload.is_empty());
    }

    #[test]
    fn a_tty_stream_is_one_console_frame_per_line() {
        let mut frames = Frames::default();
        let mut payload = BytesMut::from(&b"2024-05-01T11:00:22Z one\r\ntwo\npart"[..]);
        assert_eq!(
            texts(frames.split(&mut payload)),
            [
                ('c', "2024-05-01T11:00:22Z one\r\n".into()),
                ('c', "two\n".into())
            ]
        );
        assert_eq!(&payload[..], b"part");
    }

    #[test]
    fn the_engine_error_message_is_what_the_view_shows() {
        assert_eq!(
            error_message(br#"{"message":"No such container: x"}"#),
            "No such container: x"
        );
        assert_eq!(error_message(b"plain words\n"), "plain words");
    }

    /// A one-connection engine on a unix socket: answers with `answer`, then keeps the
    /// connection open (or, with `hang_up`, closes it); reports when the reader closed it.
    fn engine(
        answer: Vec<u8>,
        hang_up: bool,
    ) -> (
        tempfile::TempDir,
        Endpoint,
        std::sync::mpsc::Receiver<String>,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut req = [0u8; 4096];
            let n = s.read(&mut req).unwrap();
            let line = String::from_utf8_lossy(&req[..n])
                .lines()
                .next()
                .unwrap_or("")
                .to_owned();
            s.write_all(&answer).unwrap();
            if hang_up {
                drop(s);
                return;
            }
            // Nothing more: a quiet log. A read of 0 means the reader hung up.
            let _ = s.read(&mut req);
            let _ = done_tx.send(line);
        });
        (dir, Endpoint::Unix(path), done_rx)
    }

    fn recv(rx: &mut mpsc::Receiver<Batch>) -> Batch {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            match rx.try_recv() {
                Ok(b) => return b,
                Err(mpsc::error::TryRecvError::Empty) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Err(e) => panic!("no batch: {e}"),
            }
        }
    }

    #[test]
    fn a_quiet_stream_hangs_up_once_its_view_is_gone() {
        let mut answer =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        let frame = [&[1u8, 0, 0, 0, 0, 0, 0, 6][..], b"hello\n"].concat();
        answer.extend_from_slice(format!("{:x}\r\n", frame.len()).as_bytes());
        answer.extend_from_slice(&frame);
        answer.extend_from_slice(b"\r\n");
        let (_dir, endpoint, done) = engine(answer, false);
        let mut rx = open(&endpoint, "/containers/abc/logs?follow=true".into()).unwrap();
        assert_eq!(texts(recv(&mut rx)), [('o', "hello\n".to_owned())]);
        drop(rx);
        // The thread looks every LOOK whether the view is gone, then closes the connection.
        let line = done
            .recv_timeout(Duration::from_secs(3))
            .expect("the reader hung up");
        assert_eq!(line, "GET /containers/abc/logs?follow=true HTTP/1.1");
    }

    #[test]
    fn a_stream_cut_off_before_its_end_is_a_lost_connection() {
        let answer =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabc\n\r\n".to_vec();
        let (_dir, endpoint, _done) = engine(answer, true);
        let mut rx = open(&endpoint, "/containers/abc/logs".into()).unwrap();
        assert_eq!(texts(recv(&mut rx)), [('c', "abc\n".to_owned())]);
        assert!(matches!(
            recv(&mut rx).pop(),
            Some(Err(Error::IOError { .. }))
        ));
    }

    #[test]
    fn an_error_status_carries_the_engines_message() {
        let body = br#"{"message":"No such container: abc"}"#;
        let mut answer = format!(
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        answer.extend_from_slice(body);
        let (_dir, endpoint, _done) = engine(answer, false);
        let mut rx = open(&endpoint, "/containers/abc/logs".into()).unwrap();
        match recv(&mut rx).pop() {
            Some(Err(Error::DockerResponseServerError {
                status_code,
                message,
            })) => assert_eq!(
                (status_code, message.as_str()),
                (404, "No such container: abc")
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_engine_is_an_io_error_and_tls_is_left_to_bollard() {
        let dir = tempfile::tempdir().unwrap();
        let mut rx = open(&Endpoint::Unix(dir.path().join("none.sock")), "/x".into()).unwrap();
        assert!(matches!(
            recv(&mut rx).pop(),
            Some(Err(Error::IOError { .. }))
        ));
        let ssh = Endpoint::Ssh {
            target: "host".into(),
        };
        assert!(open(&ssh, "/x".into()).is_none());
    }
}
