//! Devices as table rows: what the console knows of each device (its connection state,
//! its last facts) in the Device kind's columns, and the labels the views and actions read
//! (host key state and fingerprint, a passphrase that is needed, the error).

use super::{Conn, Device, facts};
use crate::model::{
    Health, HostKeyProblem, HostKeyState, Labels, PassphraseNeeded, Resource, ResourceKey,
    ResourceKind, RowFacts, SourceId, UpdateGuard,
};
use crate::ssh::client::SshError;

pub fn short_error(e: &SshError) -> String {
    match e {
        SshError::UnknownHostKey { fingerprint, .. } => format!("unknown key {fingerprint}"),
        SshError::ChangedHostKey { fingerprint, .. } => {
            format!("CHANGED key {fingerprint}")
        }
        SshError::RevokedHostKey { fingerprint, .. } => format!("REVOKED key {fingerprint}"),
        SshError::KnownHostsUnreadable { .. } => "known_hosts unreadable".into(),
        SshError::PassphraseNeeded { key } => format!("passphrase needed for {}", key.display()),
        SshError::BadPassphrase { .. } => "wrong passphrase".into(),
        SshError::AuthFailed { .. } => "auth failed".into(),
        SshError::Timeout(_) => "timeout".into(),
        SshError::Connect(t) => format!("unreachable: {t}"),
    }
}

/// What an update of `dev` would run into, as far as its last poll tells (the rollout that
/// drives it is added by the watch, which knows the rollouts).
fn guard(dev: &Device, conn: &Conn, f: &facts::Facts) -> UpdateGuard {
    use super::file::UpdaterKind;
    UpdateGuard {
        unreachable: match conn {
            Conn::Down(e) => Some(short_error(e)),
            Conn::Error(e) => Some(e.clone()),
            Conn::Up | Conn::Connecting => None,
        },
        failed_flag: (f.failed && dev.spec.updater == UpdaterKind::Appliance)
            .then(|| dev.spec.update.failed_flag.clone()),
        mender_daemon: f
            .mender_daemon
            .clone()
            .filter(|_| dev.spec.updater == UpdaterKind::Mender),
        rollout: None,
        held: false,
    }
}

/// The devices table's UPDATE cell (see the Device KindSpec).
pub const UPDATE_COLUMN: usize = 9;

/// One table row for `dev`.
pub fn row(source: &SourceId, dev: &Device) -> Resource {
    let st = dev.status();
    let spec = &dev.spec;
    let f = st.facts.clone().unwrap_or_default();
    let has = st.facts.is_some();
    let mut labels = Labels::new();
    // What the console acts on (accept a key, ask a passphrase, pick a sandbox); the labels
    // below say the same for display and `-o json`.
    let mut row_facts = RowFacts {
        sandboxes: spec.sandboxes.iter().map(|s| s.name.clone()).collect(),
        ..Default::default()
    };
    if !spec.tags.is_empty() {
        labels.insert("tags".into(), spec.tags.join(","));
    }
    for t in &spec.tags {
        labels.insert(format!("tag.{t}"), String::new());
    }
    if !spec.groups.is_empty() {
        labels.insert("groups".into(), spec.groups.join(","));
    }
    labels.insert(
        "updater".into(),
        format!("{:?}", spec.updater).to_ascii_lowercase(),
    );
    if !spec.sandboxes.is_empty() {
        labels.insert(
            "sandboxes".into(),
            spec.sandboxes
                .iter()
                .map(|s| s.name.clone())
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    let (state, health) = match &st.conn {
        Conn::Connecting => ("connecting".to_string(), Health::Pending),
        Conn::Up if f.failed => ("FAILED".into(), Health::Failed),
        Conn::Up if !f.units_ok() => ("degraded".into(), Health::Pending),
        Conn::Up => {
            let over = f.over(&spec.thresholds);
            if over.is_empty() {
                ("up".into(), Health::Ok)
            } else {
                labels.insert("over".into(), over.join(", "));
                ("over limit".into(), Health::Pending)
            }
        }
        Conn::Error(e) => {
            labels.insert("error".into(), e.clone());
            ("error".into(), Health::Failed)
        }
        Conn::Down(e) => {
            labels.insert("error".into(), e.to_string());
            match e {
                SshError::UnknownHostKey { fingerprint, .. } => {
                    labels.insert("host_key".into(), "unknown".into());
                    labels.insert("fingerprint".into(), fingerprint.clone());
                    row_facts.host_key = Some(Box::new(HostKeyProblem {
                        state: HostKeyState::Unknown,
                        fingerprint: fingerprint.clone(),
                    }));
                }
                SshError::ChangedHostKey { fingerprint, .. } => {
                    labels.insert("host_key".into(), "changed".into());
                    labels.insert("fingerprint".into(), fingerprint.clone());
                    row_facts.host_key = Some(Box::new(HostKeyProblem {
                        state: HostKeyState::Changed,
                        fingerprint: fingerprint.clone(),
                    }));
                }
                SshError::RevokedHostKey { fingerprint, .. } => {
                    labels.insert("host_key".into(), "revoked".into());
                    labels.insert("fingerprint".into(), fingerprint.clone());
                    row_facts.host_key = Some(Box::new(HostKeyProblem {
                        state: HostKeyState::Revoked,
                        fingerprint: fingerprint.clone(),
                    }));
                }
                SshError::PassphraseNeeded { key } => {
                    let failures = crate::ssh::auth::passphrases().failures(key);
                    labels.insert("passphrase_needed".into(), key.display().to_string());
                    labels.insert("passphrase_failures".into(), failures.to_string());
                    row_facts.passphrase = Some(Box::new(PassphraseNeeded {
                        key_path: key.display().to_string(),
                        failures,
                    }));
                }
                _ => {}
            }
            (short_error(e), Health::Failed)
        }
    };
    row_facts.update_guard = Some(Box::new(guard(dev, &st.conn, &f)));
    let dest = dev.route.dest();
    let host = if spec.is_local() {
        super::file::LOCAL_HOST.to_string()
    } else if dest.port == 22 {
        dest.host.clone()
    } else {
        format!("{}:{}", dest.host, dest.port)
    };
    let cells = vec![
        spec.name.clone(),
        state,
        host,
        f.os.clone(),
        f.kernel.clone(),
        f.uptime_secs.map(facts::human_uptime).unwrap_or_default(),
        f.load.clone(),
        f.disk_cell(),
        f.artifact.clone().unwrap_or_default(),
        f.update.clone().unwrap_or_default(),
        f.units_cell(),
        spec.tags.join(","),
    ];
    if has && !f.hostname.is_empty() {
        labels.insert("hostname".into(), f.hostname.clone());
    }
    Resource {
        key: ResourceKey {
            source: source.clone(),
            kind: ResourceKind::Device,
            id: spec.name.clone(),
        },
        name: spec.name.clone(),
        parent: None,
        health,
        cells,
        created: None,
        labels,
        facts: row_facts,
    }
}
