//! What the update driver needs from a device: run commands, stream one, upload a file, drop
//! the connection before a reboot. The fleet backend implements it over SSH; benches and unit
//! tests implement it in memory, so the driver's code path is the same everywhere.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;

#[async_trait]
pub trait DeviceLink: Send + Sync {
    /// Run a shell command line: (exit code, -1 when none; stdout+stderr, bounded).
    async fn run(&self, cmd: &str, timeout: Duration) -> Result<(i64, String), String>;

    /// Run a command and hand every output line to `line` as it arrives; the exit code.
    async fn stream(
        &self,
        cmd: &str,
        line: &mut (dyn for<'a> FnMut(&'a str) + Send),
    ) -> Result<i64, String>;

    /// Copy a local file to `remote` on the device (a temp name, then renamed), reporting
    /// the percentage sent.
    async fn upload(
        &self,
        local: &Path,
        remote: &str,
        progress: &mut (dyn FnMut(u8) + Send),
    ) -> Result<(), String>;

    /// Forget the cached connection: the device is rebooting, the next command reconnects.
    async fn disconnect(&self);
}

/// Cuts a byte stream into lines at `\n` and `\r` (progress bars redraw with `\r`); a line
/// longer than 4 KiB is cut so a misbehaving updater cannot grow memory.
#[derive(Default)]
pub struct LineSplitter {
    buf: Vec<u8>,
}

const MAX_LINE: usize = 4096;

impl LineSplitter {
    pub fn push(&mut self, data: &[u8], out: &mut dyn FnMut(&str)) {
        for &b in data {
            if b == b'\n' || b == b'\r' {
                self.flush(out);
            } else if self.buf.len() < MAX_LINE {
                self.buf.push(b);
            }
        }
    }

    pub fn flush(&mut self, out: &mut dyn FnMut(&str)) {
        if !self.buf.is_empty() {
            let line = crate::term::sanitize::sanitize_plain(&String::from_utf8_lossy(&self.buf));
            self.buf.clear();
            if !line.trim().is_empty() {
                out(line.trim_end());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_at_newlines_and_carriage_returns() {
        let mut s = LineSplitter::default();
        let mut got = Vec::new();
        s.push(b"Installing 10%\r20%\r", &mut |l| got.push(l.to_string()));
        s.push(b"30%\nDone\n\n\x1b[31mred\x1b[0m", &mut |l| {
            got.push(l.to_string())
        });
        s.flush(&mut |l| got.push(l.to_string()));
        assert_eq!(got, ["Installing 10%", "20%", "30%", "Done", "red"]);
    }
}
