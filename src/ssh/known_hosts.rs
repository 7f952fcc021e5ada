//! `known_hosts` verification like OpenSSH: plain names, `[host]:port`, comma lists, `*`/`?`
//! wildcards, `!` negation, hashed entries (`|1|salt|hmac`), `@revoked` (refuses) and
//! `@cert-authority` (ignored: certificates are not accepted). russh's helper does not handle
//! patterns or markers, so this is our own reader.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use russh::keys::{HashAlg, PublicKey};

/// The verdict for one host key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyStatus {
    Known,
    /// No entry for this host and key type.
    Unknown,
    /// An entry for this host with the same key type but another key: possible MITM.
    Changed {
        file: PathBuf,
        line: usize,
    },
    /// The key is listed as `@revoked`.
    Revoked {
        file: PathBuf,
        line: usize,
    },
}

/// The name a host is recorded under: `host`, or `[host]:port` when the port is not 22.
pub fn host_port(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// `SHA256:...` as ssh prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Check `key` for `host`:`port` against every file in order (missing files are empty).
pub fn check(files: &[PathBuf], host: &str, port: u16, key: &PublicKey) -> HostKeyStatus {
    let name = host_port(host, port);
    let mut changed = None;
    for file in files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        match check_text(&text, &name, key) {
            (Some(HostKeyStatus::Known), _) => return HostKeyStatus::Known,
            (Some(HostKeyStatus::Revoked { line, .. }), _) => {
                return HostKeyStatus::Revoked {
                    file: file.clone(),
                    line,
                };
            }
            (_, Some(line)) if changed.is_none() => {
                changed = Some(HostKeyStatus::Changed {
                    file: file.clone(),
                    line,
                })
            }
            _ => {}
        }
    }
    changed.unwrap_or(HostKeyStatus::Unknown)
}

/// (Known or Revoked when found, first line with a different key of the same type).
fn check_text(text: &str, name: &str, key: &PublicKey) -> (Option<HostKeyStatus>, Option<usize>) {
    let algo = key.algorithm();
    let mut changed = None;
    let mut known = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let mut first = fields.next().unwrap_or("");
        let marker = if first.starts_with('@') {
            let m = first;
            first = fields.next().unwrap_or("");
            Some(m)
        } else {
            None
        };
        let (Some(_ktype), Some(b64)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !hosts_match(first, name) {
            continue;
        }
        let Ok(recorded) = russh::keys::parse_public_key_base64(b64) else {
            continue;
        };
        match marker {
            Some("@revoked") => {
                if recorded.key_data() == key.key_data() {
                    return (
                        Some(HostKeyStatus::Revoked {
                            file: PathBuf::new(),
                            line: i + 1,
                        }),
                        None,
                    );
                }
            }
            Some(_) => {}
            None => {
                if recorded.key_data() == key.key_data() {
                    known = true;
                } else if recorded.algorithm() == algo && changed.is_none() {
                    changed = Some(i + 1);
                }
            }
        }
    }
    (known.then_some(HostKeyStatus::Known), changed)
}

/// Does a known_hosts host field (comma list of patterns or one hashed name) match `name`?
pub fn hosts_match(field: &str, name: &str) -> bool {
    if let Some(hashed) = field.strip_prefix("|1|") {
        return hashed_match(hashed, name);
    }
    let name = name.to_ascii_lowercase();
    let mut matched = false;
    for p in field.split(',') {
        let p = p.to_ascii_lowercase();
        if let Some(neg) = p.strip_prefix('!') {
            if super::config::wildcard(neg, &name) {
                return false;
            }
        } else if super::config::wildcard(&p, &name) {
            matched = true;
        }
    }
    matched
}

fn hashed_match(hashed: &str, name: &str) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    let Some((salt, hash)) = hashed.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (b64.decode(salt), b64.decode(hash)) else {
        return false;
    };
    let Ok(mut mac) = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(&salt) else {
        return false;
    };
    mac.update(name.as_bytes());
    mac.verify_slice(&hash).is_ok()
}

/// Append `host key` to `file` (created with its directory when missing).
pub fn learn(file: &Path, host: &str, port: u16, key: &PublicKey) -> std::io::Result<()> {
    if let Some(dir) = file.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    let existing = std::fs::read(file).unwrap_or_default();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)?;
    let mut line = String::new();
    if !existing.is_empty() && !existing.ends_with(b"\n") {
        line.push('\n');
    }
    let openssh = key.to_openssh().map_err(std::io::Error::other)?;
    // Drop the comment: the line names the host, not the key's origin.
    let mut parts = openssh.split_whitespace();
    let (t, k) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    line.push_str(&format!("{} {t} {k}\n", host_port(host, port)));
    f.write_all(line.as_bytes())?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
    const K2: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIA6rWI3G1sz07DnfFlrouTcysQlj2P+jpNSOEWD9OJ3X";

    fn key(b: &str) -> PublicKey {
        russh::keys::parse_public_key_base64(b).unwrap()
    }

    #[test]
    fn plain_patterns_ports_and_negation() {
        let text = format!(
            "# c\n[10.0.0.5]:2222 ssh-ed25519 {K1}\n*.prod,!bad.prod ssh-ed25519 {K1}\nweb-? ssh-ed25519 {K2}\n"
        );
        let k1 = key(K1);
        assert_eq!(
            check_text(&text, "[10.0.0.5]:2222", &k1).0,
            Some(HostKeyStatus::Known)
        );
        assert_eq!(check_text(&text, "10.0.0.5", &k1), (None, None));
        assert_eq!(
            check_text(&text, "a.prod", &k1).0,
            Some(HostKeyStatus::Known)
        );
        assert_eq!(check_text(&text, "bad.prod", &k1), (None, None));
        assert_eq!(check_text(&text, "web-1", &k1), (None, Some(4)));
    }

    #[test]
    fn hashed_entries() {
        // `ssh-keygen -H` style entry for "[127.0.0.1]:2222", salt chosen here.
        let salt = b"0123456789abcdefghij";
        let mut mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(salt).unwrap();
        mac.update(b"[127.0.0.1]:2222");
        let hash = mac.finalize().into_bytes();
        let b64 = base64::engine::general_purpose::STANDARD;
        let line = format!(
            "|1|{}|{} ssh-ed25519 {K1}\n",
            b64.encode(salt),
            b64.encode(hash)
        );
        assert_eq!(
            check_text(&line, "[127.0.0.1]:2222", &key(K1)).0,
            Some(HostKeyStatus::Known)
        );
        assert_eq!(
            check_text(&line, "[127.0.0.1]:2222", &key(K2)),
            (None, Some(1))
        );
        assert_eq!(check_text(&line, "127.0.0.1", &key(K1)), (None, None));
    }

    #[test]
    fn revoked_and_learn() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("sub/known_hosts");
        assert_eq!(
            check(std::slice::from_ref(&f), "h", 22, &key(K1)),
            HostKeyStatus::Unknown
        );
        learn(&f, "h", 2200, &key(K1)).unwrap();
        assert_eq!(
            check(std::slice::from_ref(&f), "h", 2200, &key(K1)),
            HostKeyStatus::Known
        );
        assert!(matches!(
            check(std::slice::from_ref(&f), "h", 2200, &key(K2)),
            HostKeyStatus::Changed { line: 1, .. }
        ));
        std::fs::write(&f, format!("@revoked * ssh-ed25519 {K2}\n")).unwrap();
        assert!(matches!(
            check(std::slice::from_ref(&f), "h", 2200, &key(K2)),
            HostKeyStatus::Revoked { line: 1, .. }
        ));
        assert!(fingerprint(&key(K1)).starts_with("SHA256:"));
    }
}
