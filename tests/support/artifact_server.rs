//! A tiny HTTP/1.1 file server on 127.0.0.1 for simulated devices: the real Mender 3 client and
//! the simulated `mender-update` download `http://127.0.0.1:PORT/NAME.mender` from it
//! themselves. std::net and one thread per connection; `GET` only, `Connection: close`.
//! It logs every request, can throttle bodies (a download that takes a while, to cut it
//! mid-way) and can be made unreachable (connections refused) and reachable again.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Default)]
struct State {
    files: HashMap<String, PathBuf>,
    requests: Vec<String>,
    reachable: bool,
    /// Body bytes per second (None: as fast as possible).
    rate: Option<u64>,
}

pub struct ArtifactServer {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ArtifactServer {
    pub fn start() -> ArtifactServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("local addr").port();
        let state = Arc::new(Mutex::new(State {
            reachable: true,
            ..Default::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let thread = std::thread::spawn(move || accept_loop(Some(listener), port, st, sp));
        ArtifactServer {
            port,
            state,
            stop,
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serve `file` as `/<name>`; returns its URL.
    pub fn serve(&self, name: &str, file: &Path) -> String {
        self.state
            .lock()
            .unwrap()
            .files
            .insert(name.to_string(), file.to_path_buf());
        self.url(name)
    }

    /// `http://127.0.0.1:PORT/<name>` (percent-encoded), served or not.
    pub fn url(&self, name: &str) -> String {
        let mut path = String::new();
        for b in name.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                path.push(b as char);
            } else {
                path += &format!("%{b:02X}");
            }
        }
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    /// Every request so far, as `GET /path`.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Unreachable: the port refuses connections (the listener is closed); reachable again:
    /// the same port listens again.
    pub fn set_reachable(&self, reachable: bool) {
        self.state.lock().unwrap().reachable = reachable;
        // Let the accept loop notice (it polls every 5 ms).
        std::thread::sleep(Duration::from_millis(30));
    }

    /// Throttle response bodies to `bytes_per_sec` (None: no limit).
    pub fn set_rate(&self, bytes_per_sec: Option<u64>) {
        self.state.lock().unwrap().rate = bytes_per_sec;
    }
}

impl Drop for ArtifactServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(
    mut listener: Option<TcpListener>,
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::SeqCst) {
        let reachable = state.lock().unwrap().reachable;
        if !reachable {
            listener = None;
        } else if listener.is_none() {
            listener = TcpListener::bind(("127.0.0.1", port)).ok().inspect(|l| {
                let _ = l.set_nonblocking(true);
            });
        }
        match listener.as_ref().map(|l| l.accept()) {
            Some(Ok((stream, _))) => {
                let st = state.clone();
                std::thread::spawn(move || {
                    let _ = handle(stream, &st);
                });
            }
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        if let (b'%', Some(v)) = (b[i], hex) {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn handle(stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Skip the headers.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let path = target.split('?').next().unwrap_or("/");
    let name = percent_decode(path.trim_start_matches('/'));
    let (file, rate) = {
        let mut s = state.lock().unwrap();
        s.requests.push(format!("{method} {path}"));
        (s.files.get(&name).cloned(), s.rate)
    };
    let mut stream = stream;
    let body = match (method.as_str(), file.map(std::fs::read)) {
        ("GET", Some(Ok(body))) => body,
        ("GET", _) => {
            let msg = b"Not Found\n";
            write!(
                stream,
                "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                msg.len()
            )?;
            return stream.write_all(msg);
        }
        _ => {
            return stream.write_all(
                b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    };
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )?;
    match rate {
        None => stream.write_all(&body)?,
        Some(rate) => {
            // 20 slices a second.
            let chunk = ((rate / 20).max(1)) as usize;
            for c in body.chunks(chunk) {
                stream.write_all(c)?;
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    stream.flush()?;
    stream.shutdown(std::net::Shutdown::Write)
}
