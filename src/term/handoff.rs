//! Hand the terminal to an interactive remote session (container exec, pod exec, SSH) and take it
//! back. Like ssh: the session ends when the remote side exits, or on `~.` typed after a newline.

use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;

use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::backend::ShellSession;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The remote shell exited.
    Remote,
    /// The user typed `~.`.
    Escape,
    /// Our terminal went away (hang-up).
    LocalClosed,
}

/// `~.` detection as OpenSSH does it: only at the start of a line; `~~` sends one `~`.
///
/// Escape sequences in the input (arrow keys, and the terminal's answers to the remote shell's
/// queries, e.g. the cursor position report busybox ash asks for at every prompt) pass through
/// without changing whether we are at the start of a line; otherwise `Enter ~ .` would stop
/// working whenever the remote side asks the terminal something.
#[derive(Debug, Default)]
pub struct EscapeFilter {
    state: EscState,
    seq: SeqState,
    /// The line state to return to when the current escape sequence ends.
    before_seq: EscState,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum EscState {
    #[default]
    LineStart,
    Tilde,
    Middle,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum SeqState {
    #[default]
    None,
    /// After ESC.
    Esc,
    /// Inside `ESC [` or `ESC O`, until a final byte.
    Body,
}

impl EscapeFilter {
    /// Filter typed bytes; returns (bytes to forward, escape seen).
    pub fn feed(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            match self.seq {
                SeqState::Esc => {
                    out.push(b);
                    self.seq = if b == b'[' || b == b'O' {
                        SeqState::Body
                    } else {
                        self.state = self.before_seq;
                        SeqState::None
                    };
                    continue;
                }
                SeqState::Body => {
                    out.push(b);
                    if (0x40..=0x7e).contains(&b) {
                        self.seq = SeqState::None;
                        self.state = self.before_seq;
                    }
                    continue;
                }
                // Also while a `~` is held: a terminal report can arrive between `~` and `.`
                // (the remote shell asked for the cursor position just before).
                SeqState::None if b == 0x1b => {
                    out.push(b);
                    self.before_seq = self.state;
                    self.seq = SeqState::Esc;
                    continue;
                }
                SeqState::None => {}
            }
            match (self.state, b) {
                (EscState::LineStart, b'~') => self.state = EscState::Tilde,
                (EscState::Tilde, b'.') => return (out, true),
                (EscState::Tilde, b'~') => {
                    out.push(b'~');
                    self.state = EscState::Middle;
                }
                (EscState::Tilde, other) => {
                    out.push(b'~');
                    out.push(other);
                    self.state = if other == b'\r' || other == b'\n' {
                        EscState::LineStart
                    } else {
                        EscState::Middle
                    };
                }
                (_, b'\r' | b'\n') => {
                    out.push(b);
                    self.state = EscState::LineStart;
                }
                (_, other) => {
                    out.push(other);
                    self.state = EscState::Middle;
                }
            }
        }
        (out, false)
    }
}

/// Reads the terminal on a plain thread that can be stopped: a tokio stdin read left pending
/// after the session would swallow the first key typed back in the TUI.
struct StdinPump {
    /// Writing to it (or closing it) wakes the thread's poll and stops it.
    stop_w: OwnedFd,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StdinPump {
    fn start(tx: mpsc::UnboundedSender<Vec<u8>>) -> io::Result<Self> {
        use rustix::event::{PollFd, PollFlags, poll};
        let (stop_r, stop_w) = rustix::pipe::pipe()?;
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let stdin = io::stdin();
            loop {
                let mut pfd = [
                    PollFd::new(&stdin, PollFlags::IN),
                    PollFd::new(&stop_r, PollFlags::IN),
                ];
                match poll(&mut pfd, None) {
                    Ok(_) => {}
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(_) => break,
                }
                if !pfd[1].revents().is_empty() {
                    break;
                }
                if pfd[0]
                    .revents()
                    .intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR)
                {
                    match stdin.lock().read(&mut buf) {
                        Ok(0) | Err(_) => {
                            let _ = tx.send(Vec::new()); // empty = local terminal closed
                            break;
                        }
                        Ok(n) => {
                            if tx.send(buf[..n].to_vec()).is_err() {
                                break;
                            }
                        }
                    }
                }
            }
        });
        Ok(StdinPump {
            stop_w,
            thread: Some(thread),
        })
    }
}

impl Drop for StdinPump {
    fn drop(&mut self) {
        let _ = rustix::io::write(&self.stop_w, b"x");
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Give the terminal to a process on this machine (a `host: local` device's shell) until it
/// exits: cooked mode and the console's own stdio, so it has a real TTY. The caller has left
/// the alternate screen ([`super::suspend`]) and restores the TUI after ([`super::resume`]).
/// An interactive shell takes the terminal's foreground for its jobs, so Ctrl-C and Ctrl-Z
/// reach the shell, not the console.
pub async fn run_here(
    cmd: std::process::Command,
    banner: &str,
) -> io::Result<std::process::ExitStatus> {
    crossterm::terminal::disable_raw_mode()?;
    let mut out = io::stdout();
    write!(out, "\r\n\x1b[2m{banner}  (exit to return)\x1b[0m\r\n")?;
    out.flush()?;
    tokio::process::Command::from(cmd).status().await
}

/// Bridge the local terminal (already raw, alternate screen left) to `session` until it ends.
pub async fn bridge(mut session: ShellSession, banner: &str) -> io::Result<Ended> {
    let mut out = io::stdout();
    write!(out, "\r\n\x1b[2m{banner}  (~. to detach)\x1b[0m\r\n")?;
    out.flush()?;

    let (in_tx, mut in_rx) = mpsc::unbounded_channel();
    let _pump = StdinPump::start(in_tx)?;
    let mut winch = signal(SignalKind::window_change())?;
    let mut escape = EscapeFilter::default();
    if let Ok((cols, rows)) = crossterm::terminal::size() {
        let _ = session.resize.send((cols, rows));
    }
    let ended = loop {
        tokio::select! {
            chunk = session.output.next() => match chunk {
                Some(Ok(bytes)) => {
                    out.write_all(&bytes)?;
                    out.flush()?;
                }
                Some(Err(e)) => {
                    tracing::warn!("shell output error: {e}");
                    break Ended::Remote;
                }
                None => break Ended::Remote,
            },
            typed = in_rx.recv() => match typed {
                Some(bytes) if !bytes.is_empty() => {
                    let (fwd, esc) = escape.feed(&bytes);
                    if !fwd.is_empty() && session.input.write_all(&fwd).await.is_err() {
                        break Ended::Remote;
                    }
                    let _ = session.input.flush().await;
                    if esc {
                        break Ended::Escape;
                    }
                }
                _ => break Ended::LocalClosed,
            },
            _ = winch.recv() => {
                if let Ok((cols, rows)) = crossterm::terminal::size() {
                    let _ = session.resize.send((cols, rows));
                }
            }
        }
    };
    let _ = session.input.shutdown().await;
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_dot_after_newline_detaches() {
        let mut f = EscapeFilter::default();
        assert_eq!(f.feed(b"ls\r"), (b"ls\r".to_vec(), false));
        assert_eq!(f.feed(b"~."), (Vec::new(), true));
    }

    #[test]
    fn tilde_in_the_middle_is_plain_text() {
        let mut f = EscapeFilter::default();
        assert_eq!(f.feed(b"cd ~.x"), (b"cd ~.x".to_vec(), false));
    }

    #[test]
    fn double_tilde_sends_one_and_other_keys_pass() {
        let mut f = EscapeFilter::default();
        assert_eq!(f.feed(b"~~"), (b"~".to_vec(), false));
        let mut f = EscapeFilter::default();
        assert_eq!(f.feed(b"~a"), (b"~a".to_vec(), false));
        // Split across reads still works.
        let mut f = EscapeFilter::default();
        assert_eq!(f.feed(b"\r~"), (b"\r".to_vec(), false));
        assert_eq!(f.feed(b"."), (Vec::new(), true));
    }

    #[test]
    fn terminal_reports_do_not_break_line_start() {
        let mut f = EscapeFilter::default();
        assert_eq!(f.feed(b"\r\x1b[8;5R"), (b"\r\x1b[8;5R".to_vec(), false));
        assert_eq!(f.feed(b"~."), (Vec::new(), true));
        let mut f = EscapeFilter::default();
        assert_eq!(f.feed(b"a\x1bOA~."), (b"a\x1bOA~.".to_vec(), false));
        let mut f = EscapeFilter::default();
        assert_eq!(f.feed(b"\r~\x1b[8;5R."), (b"\r\x1b[8;5R".to_vec(), true));
    }
}
