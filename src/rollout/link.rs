//! What the update driver needs from a device: run commands, stream one, upload a file, drop
//! the connection before a reboot. The fleet backend implements it over SSH or local processes
//! (`host: local`); benches and unit tests implement it in memory, so the driver's code path
//! is the same everywhere.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;

use super::job::{self, JobEnd};

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

    /// Start `cmd` detached on the device, its output and status kept in the job directory
    /// `dir` (src/rollout/job.rs): a console exit or a dropped session does not stop it.
    async fn start_job(&self, dir: &str, cmd: &str) -> Result<(), String> {
        let (code, out) = self
            .run(&job::start_script(dir, cmd), Duration::from_secs(30))
            .await?;
        if code == 0 && out.lines().any(|l| l.trim() == "started") {
            Ok(())
        } else {
            Err(format!(
                "starting the install exited {code}: {}",
                out.lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .trim()
            ))
        }
    }

    /// Hand every output line of the job in `dir` to `line`, from its start, until it ends.
    async fn follow_job(
        &self,
        dir: &str,
        line: &mut (dyn for<'a> FnMut(&'a str) + Send),
    ) -> Result<JobEnd, String> {
        let mut end = None;
        let code = self
            .stream(
                &job::follow_script(dir),
                &mut |l: &str| match job::parse_mark(l) {
                    Some(e) => end = Some(e),
                    None => line(l),
                },
            )
            .await?;
        end.ok_or_else(|| format!("following the install ended (exit {code}) without its status"))
    }
}

/// Cuts a byte stream into lines at `\n` and `\r` (progress bars redraw with `\r`); a line
/// longer than 4 KiB is cut so a misbehaving updater cannot grow memory. Dots that arrive
/// without a newline (Mender 3's progress bar, progress.rs) are passed on as they come, as a
/// line of dots, so the gauge moves while the bar is drawn.
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
        if !self.buf.is_empty() && self.buf.iter().all(|&b| b == b'.') {
            self.flush(out);
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

    #[test]
    fn dots_without_a_newline_are_passed_on_as_they_come() {
        let mut s = LineSplitter::default();
        let mut got = Vec::new();
        s.push(b"0% 50% 100%\n|--|--|\n...", &mut |l| {
            got.push(l.to_string())
        });
        s.push(b"..", &mut |l| got.push(l.to_string()));
        s.push(b"..time=x\n", &mut |l| got.push(l.to_string()));
        assert_eq!(got, ["0% 50% 100%", "|--|--|", "...", "..", "..time=x"]);
    }
}
