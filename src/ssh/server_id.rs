//! The server's identification line (`SSH-2.0-dropbear_2022.83`, RFC 4253 §4.2), read as it
//! passes from the socket to russh, and the one server quirk fleetdeck adapts to.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How much the server may send before its identification (RFC 4253 allows other lines
/// first); past this the stream stops looking.
const LOOK_AT_MOST: usize = 8 * 1024;

/// A stream that records the first line starting with `SSH-` the server sends.
pub struct SniffId<S> {
    inner: S,
    pending: Vec<u8>,
    looking: bool,
    id: Arc<OnceLock<String>>,
}

impl<S> SniffId<S> {
    /// The stream, and where its server's identification lands once read.
    pub fn new(inner: S) -> (Self, Arc<OnceLock<String>>) {
        let id = Arc::new(OnceLock::new());
        let s = SniffId {
            inner,
            pending: Vec::new(),
            looking: true,
            id: id.clone(),
        };
        (s, id)
    }

    fn look(&mut self, data: &[u8]) {
        self.pending.extend_from_slice(data);
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            if line.starts_with(b"SSH-") {
                let text = String::from_utf8_lossy(&line).trim_end().to_owned();
                let _ = self.id.set(text);
                self.looking = false;
                break;
            }
        }
        if !self.looking || self.pending.len() > LOOK_AT_MOST {
            self.looking = false;
            self.pending = Vec::new();
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for SniffId<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if self.looking && matches!(polled, Poll::Ready(Ok(()))) {
            let fresh = buf.filled()[before..].to_vec();
            self.look(&fresh);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for SniffId<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Dropbear 2022.82 to 2024.85 closes a session channel that still waits for its command when
/// a process of another channel on the same session exits: its check for a finished session
/// channel took "no process yet" for "process gone" (upstream issue #321, fixed in 2024.86 by
/// "Don't close channels when a PID hasn't started"). A command started then is reported lost,
/// and it may still have run (an `exec` that reached the closed channel is started). Such a
/// server must run one command per session at a time. A Dropbear that hides its version
/// counts as one of them.
pub fn runs_one_command_at_a_time(id: &str) -> bool {
    let software = id.splitn(3, '-').nth(2).unwrap_or("");
    let software = software.split_whitespace().next().unwrap_or("");
    let Some(version) = software.strip_prefix("dropbear") else {
        return false;
    };
    let release = version
        .trim_start_matches('_')
        .split_once('.')
        .map(|(_, r)| {
            r.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|r| r.parse::<u32>().ok());
    release.is_none_or(|r| (82..=85).contains(&r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[test]
    fn the_dropbear_releases_with_the_channel_bug() {
        for id in [
            "SSH-2.0-dropbear_2022.82",
            "SSH-2.0-dropbear_2022.83",
            "SSH-2.0-dropbear_2024.85",
            "SSH-2.0-dropbear",
        ] {
            assert!(runs_one_command_at_a_time(id), "{id}");
        }
        for id in [
            "SSH-2.0-dropbear_2024.86",
            "SSH-2.0-dropbear_2025.88",
            "SSH-2.0-dropbear_2020.81",
            "SSH-2.0-dropbear_0.52",
            "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3",
            "SSH-2.0-OpenSSH_for_Windows_8.1",
            "",
        ] {
            assert!(!runs_one_command_at_a_time(id), "{id}");
        }
    }

    #[tokio::test]
    async fn records_the_identification_after_other_lines() {
        let server = b"a banner line\r\nSSH-2.0-dropbear_2022.83\r\n\x00\x00\x01binary".to_vec();
        let (mut s, id) = SniffId::new(&server[..]);
        let mut out = Vec::new();
        // Small reads: the line arrives in pieces.
        let mut chunk = [0u8; 5];
        loop {
            let n = s.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(out, server, "passes every byte on");
        assert_eq!(
            id.get().map(String::as_str),
            Some("SSH-2.0-dropbear_2022.83")
        );
    }
}
