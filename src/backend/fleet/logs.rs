//! Device logs: `journalctl -f -u UNIT` or `tail -F FILE` over one exec channel, split into
//! lines, sanitised and batched like every backend's logs (`backend::batch`).

use super::{DeviceSpec, Inner, facts};
use crate::backend::batch::{Batcher, Gone};
use crate::backend::{EventTx, StreamId};
use crate::model::{LogLine, LogOpts, ResourceKey};
use crate::term::sanitize::{LineSplitter, sanitize};

fn line(raw: &[u8]) -> LogLine {
    LogLine {
        ts: None,
        source: None,
        text: sanitize(raw),
        marker: false,
    }
}

/// Ok(error text or None when the command ended); Err when the UI went away.
pub async fn stream_logs(
    inner: &Inner,
    target: &ResourceKey,
    opts: &LogOpts,
    stream: StreamId,
    tx: &EventTx,
) -> Result<Option<String>, Gone> {
    let Some(dev) = inner.device(&target.id) else {
        return Ok(Some(format!("no device {}", target.id)));
    };
    let conn = match inner.session(dev).await {
        Ok(c) => c,
        Err(e) => return Ok(Some(e.to_string())),
    };
    let cmd = log_command(&dev.spec, opts);
    let session = conn.clone();
    let mut rx = match conn.exec_stream(&cmd).await {
        Ok(rx) => rx,
        Err(e) => return Ok(Some(e.to_string())),
    };
    let mut splitter = LineSplitter::new();
    let mut batch = Batcher::new(stream);
    loop {
        tokio::select! {
            chunk = rx.recv() => match chunk {
                Some(bytes) => {
                    splitter.push(&bytes, |l| batch.push(line(l)));
                    if batch.is_full() {
                        batch.flush(tx).await?;
                    }
                }
                None => break,
            },
            _ = batch.due() => batch.flush(tx).await?,
        }
    }
    splitter.finish(|l| batch.push(line(l)));
    batch.flush(tx).await?;
    // A frozen or vanished device ends the stream through the keepalives: say so, rather than
    // look like a command that ended.
    if let Some(why) = session.lost() {
        inner.forget(dev).await;
        return Ok(Some(format!("connection lost: {why}")));
    }
    Ok(None)
}

/// `journalctl` or `tail` command for a device's log view.
pub fn log_command(spec: &DeviceSpec, opts: &LogOpts) -> String {
    let n = opts.tail.map(|n| n.to_string());
    if let Some(file) = &spec.log_file {
        let n = n.unwrap_or_else(|| "+1".into());
        let follow = if opts.follow { " -F" } else { "" };
        return format!("exec tail -n {n}{follow} {}", facts::sh_quote(file));
    }
    let mut cmd = String::from("exec journalctl --no-pager -o short-iso");
    if let Some(n) = &n {
        cmd.push_str(&format!(" -n {n}"));
    }
    if let Some(s) = opts.since_secs {
        let since = jiff::Timestamp::now().as_second() - i64::try_from(s).unwrap_or(0);
        cmd.push_str(&format!(" --since=@{since}"));
    }
    if opts.follow {
        cmd.push_str(" -f");
    }
    if let Some(u) = &spec.journal_unit {
        cmd.push_str(&format!(" -u {}", facts::sh_quote(u)));
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::fleet::FleetFile;

    fn spec(yaml: &str) -> DeviceSpec {
        FleetFile::from_yaml(yaml, std::path::Path::new("/f/x.yaml"))
            .unwrap()
            .devices
            .remove(0)
    }

    #[test]
    fn log_commands() {
        let follow = LogOpts {
            follow: true,
            tail: Some(100),
            since_secs: None,
            previous: false,
        };
        let j = spec("devices:\n  - {name: a, journal_unit: appliance}\n");
        assert_eq!(
            log_command(&j, &follow),
            "exec journalctl --no-pager -o short-iso -n 100 -f -u 'appliance'"
        );
        let whole = spec("devices:\n  - {name: a}\n");
        let all = LogOpts {
            follow: false,
            tail: None,
            since_secs: None,
            previous: false,
        };
        assert_eq!(
            log_command(&whole, &all),
            "exec journalctl --no-pager -o short-iso"
        );
        let f = spec("devices:\n  - {name: a, log_file: \"/var/log/it's.log\"}\n");
        assert_eq!(
            log_command(&f, &follow),
            r"exec tail -n 100 -F '/var/log/it'\''s.log'"
        );
        assert_eq!(
            log_command(&f, &all),
            r"exec tail -n +1 '/var/log/it'\''s.log'"
        );
    }
}
