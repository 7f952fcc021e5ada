//! The deployment log of one device in one deployment (no follow: Mender stores it whole).
//!
//! `GET .../deployments/{id}/devices/{device}/log` is text/plain, one line per message:
//! `<Go time.Time.String()> <level>: <message>` (mender-server
//! backend/services/deployments/model/device_deployment_log.go:58-60), so the time carries
//! fractional seconds whenever they are not zero: `2024-05-01 08:01:31.123456 +0000 UTC info: ...`.

use anyhow::{anyhow, bail};

use super::client::ApiError;
use super::{DEPLOYMENTS, Inner, seg, split_deployment_device};
use crate::backend::report::{Gone, log_lines};
use crate::backend::{EventTx, StreamId};
use crate::model::{LogLine, ResourceKey, ResourceKind};

async fn fetch(inner: &Inner, key: &ResourceKey) -> anyhow::Result<String> {
    let (dep, dev) = split_deployment_device(&key.id)?;
    let path = format!("{DEPLOYMENTS}/{}/devices/{}/log", seg(dep)?, seg(dev)?);
    match inner.api.request(http::Method::GET, &path, None).await {
        Ok(r) => Ok(String::from_utf8_lossy(&r.body).into_owned()),
        Err(ApiError::Status(404, _)) => bail!("no deployment log for this device"),
        Err(e) => Err(anyhow!(inner.describe_error(e))),
    }
}

/// Send the log of `key` as `LogLines`: Ok(why it could not be read, or None); Err when the
/// UI went away.
pub async fn send_log(
    inner: &Inner,
    key: &ResourceKey,
    stream: StreamId,
    tx: &EventTx,
) -> Result<Option<String>, Gone> {
    if key.kind != ResourceKind::MenderDeploymentDevice {
        return Ok(Some("only deployment devices have logs".into()));
    }
    let text = match fetch(inner, key).await {
        Ok(text) => text,
        Err(e) => return Ok(Some(format!("{e:#}"))),
    };
    let lines: Vec<LogLine> = text
        .lines()
        .map(|l| LogLine {
            ts: timestamp(l),
            source: None,
            text: crate::term::sanitize::sanitize(l.as_bytes()),
            marker: false,
        })
        .collect();
    for chunk in lines.chunks(crate::backend::batch::BATCH_LINES) {
        log_lines(tx, stream, chunk.to_vec()).await?;
    }
    Ok(None)
}

/// The leading Go `time.String()` of a log line, in nanoseconds since the epoch:
/// `2024-05-01 08:01:31.123456 +0000 UTC` (fraction optional).
pub fn timestamp(line: &str) -> Option<i64> {
    let mut parts = line.split_whitespace();
    let (date, time, offset) = (parts.next()?, parts.next()?, parts.next()?);
    let text = format!("{date} {time} {offset}");
    jiff::Timestamp::strptime("%Y-%m-%d %H:%M:%S%.f %z", &text)
        .ok()
        .and_then(|t| i64::try_from(t.as_nanosecond()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_time_strings_parse_with_and_without_fraction() {
        let whole = timestamp("2024-05-01 08:01:31 +0000 UTC info: Running Mender").unwrap();
        let frac = timestamp("2024-05-01 08:01:31.123456 +0000 UTC info: x").unwrap();
        let nanos = timestamp("2024-05-01 08:01:31.123456789 +0000 UTC error: y").unwrap();
        assert_eq!(frac - whole, 123_456_000);
        assert_eq!(nanos - whole, 123_456_789);
        // Another zone (a server not on UTC) is honoured.
        let cest = timestamp("2024-05-01 10:01:31.5 +0200 CEST info: z").unwrap();
        assert_eq!(cest - whole, 500_000_000);
        assert_eq!(timestamp("no time here"), None);
        assert_eq!(timestamp(""), None);
    }
}
