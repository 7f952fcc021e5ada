//! `known_hosts` verification like OpenSSH: plain names, `[host]:port`, comma lists, `*`/`?`
//! wildcards, `!` negation, hashed entries (`|1|salt|hmac`), `@revoked` (refuses, whichever
//! file lists it) and `@cert-authority` (ignored: certificates are not accepted). russh's helper
//! does not handle patterns or markers, so this is our own reader.
//!
//! Verdicts follow OpenSSH's: the key matches an entry → known; it is `@revoked` anywhere →
//! revoked; another key of ANY type is recorded for the host → changed ("REMOTE HOST
//! IDENTIFICATION HAS CHANGED"), never offered for acceptance; only a host with no entry at all
//! is unknown. [`recorded_algorithms`] lets the client ask for the recorded key types first, so
//! a host known by its RSA key is not refused because ed25519 was negotiated. Each file is
//! parsed once and looked up by host name while it stays the same (`table.rs`).

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use russh::keys::{Algorithm, HashAlg, PublicKey};

use super::files;

mod table;
use table::Table;

/// The verdict for one host key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyStatus {
    Known,
    /// No entry for this host at all.
    Unknown,
    /// Another key (of any type) is recorded for this host, and none matches: possible MITM.
    Changed {
        file: PathBuf,
        line: usize,
    },
    /// The key is listed as `@revoked` (in any of the files).
    Revoked {
        file: PathBuf,
        line: usize,
    },
    /// A known_hosts file exists but cannot be read (too large, unreadable): it might revoke
    /// this key, so nothing is trusted.
    Unreadable(files::FileError),
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

/// Check `key` for `host`:`port` against every file (missing files are empty). A match in one
/// file makes the key known, unless a file revokes it.
pub fn check(files: &[PathBuf], host: &str, port: u16, key: &PublicKey) -> HostKeyStatus {
    let name = host_port(host, port);
    let mut known = false;
    let mut changed = None;
    for file in files {
        let table = match table::load(file) {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(e) => return HostKeyStatus::Unreadable(e),
        };
        let found = scan(&table, &name, key);
        if let Some(line) = found.revoked {
            return HostKeyStatus::Revoked {
                file: file.clone(),
                line,
            };
        }
        known |= found.known;
        if changed.is_none() {
            changed = found.other.map(|line| (file.clone(), line));
        }
    }
    match (known, changed) {
        (true, _) => HostKeyStatus::Known,
        (false, Some((file, line))) => HostKeyStatus::Changed { file, line },
        (false, None) => HostKeyStatus::Unknown,
    }
}

/// The key types recorded for `host`:`port` (plain entries only), in file order, without
/// repeats. Unreadable files count as empty here: [`check`] refuses them anyway.
pub fn recorded_algorithms(files: &[PathBuf], host: &str, port: u16) -> Vec<Algorithm> {
    let name = host_port(host, port);
    let mut out: Vec<Algorithm> = Vec::new();
    for file in files {
        let Ok(Some(table)) = table::load(file) else {
            continue;
        };
        for entry in table.matching(&name) {
            if entry.marker.is_none()
                && let Some(key) = entry.key()
                && !out.contains(&key.algorithm())
            {
                out.push(key.algorithm());
            }
        }
    }
    out
}

/// What one file says about a host and a key.
#[derive(Debug, Default, PartialEq, Eq)]
struct Found {
    known: bool,
    /// Line of an `@revoked` entry for this key.
    revoked: Option<usize>,
    /// First line recording another key for this host.
    other: Option<usize>,
}

fn scan(table: &Table, name: &str, key: &PublicKey) -> Found {
    let mut found = Found::default();
    for e in table.matching(name) {
        let Some(recorded) = e.key() else {
            continue;
        };
        let same = recorded.key_data() == key.key_data();
        match e.marker.as_deref() {
            Some("@revoked") if same => {
                found.revoked = Some(e.line);
                return found;
            }
            Some(_) => {}
            None if same => found.known = true,
            None => {
                found.other.get_or_insert(e.line);
            }
        }
    }
    found
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
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(file)?;
    // Only the last byte matters (does the file end its last line?): never read it whole.
    let mut line = String::new();
    if f.metadata()?.len() > 0 {
        let mut last = [0u8; 1];
        f.seek(std::io::SeekFrom::End(-1))?;
        f.read_exact(&mut last)?;
        if last[0] != b'\n' {
            line.push('\n');
        }
    }
    let openssh = key.to_openssh().map_err(std::io::Error::other)?;
    // Drop the comment: the line names the host, not the key's origin.
    let mut parts = openssh.split_whitespace();
    let (t, k) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    line.push_str(&format!("{} {t} {k}\n", host_port(host, port)));
    f.write_all(line.as_bytes())?;
    table::forget(file);
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
        let (table, k1) = (Table::parse(&text), key(K1));
        let known = Found {
            known: true,
            ..Found::default()
        };
        assert_eq!(scan(&table, "[10.0.0.5]:2222", &k1), known);
        assert_eq!(scan(&table, "10.0.0.5", &k1), Found::default());
        assert_eq!(scan(&table, "a.prod", &k1), known);
        assert_eq!(scan(&table, "bad.prod", &k1), Found::default());
        assert_eq!(
            scan(&table, "web-1", &k1),
            Found {
                other: Some(4),
                ..Found::default()
            }
        );
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
        let table = Table::parse(&line);
        assert!(scan(&table, "[127.0.0.1]:2222", &key(K1)).known);
        assert_eq!(scan(&table, "[127.0.0.1]:2222", &key(K2)).other, Some(1));
        assert_eq!(scan(&table, "127.0.0.1", &key(K1)), Found::default());
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
        std::fs::write(&f, format!("@revoked * ssh-ed25519 {K2}")).unwrap();
        assert!(matches!(
            check(std::slice::from_ref(&f), "h", 2200, &key(K2)),
            HostKeyStatus::Revoked { line: 1, .. }
        ));
        // Appending ends the unterminated last line first.
        learn(&f, "h", 22, &key(K1)).unwrap();
        assert_eq!(
            std::fs::read_to_string(&f).unwrap(),
            format!("@revoked * ssh-ed25519 {K2}\nh ssh-ed25519 {K1}\n")
        );
        assert!(fingerprint(&key(K1)).starts_with("SHA256:"));
    }

    /// An RSA key recorded for the host: an ed25519 key presented is a CHANGED key (OpenSSH:
    /// "REMOTE HOST IDENTIFICATION HAS CHANGED"), not an unknown one that could be accepted.
    #[test]
    fn another_key_of_another_type_is_changed() {
        let rsa = RSA;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("known_hosts");
        std::fs::write(&f, format!("[gw]:2222 {rsa}\n")).unwrap();
        assert_eq!(
            check(std::slice::from_ref(&f), "gw", 2222, &key(K1)),
            HostKeyStatus::Changed {
                file: f.clone(),
                line: 1
            }
        );
        assert_eq!(
            recorded_algorithms(std::slice::from_ref(&f), "gw", 2222),
            [Algorithm::Rsa { hash: None }]
        );
        assert!(recorded_algorithms(std::slice::from_ref(&f), "other", 22).is_empty());
    }

    /// `@revoked` in one file wins over a plain entry in another, in either order (OpenSSH:
    /// "REVOKED HOST KEY DETECTED").
    #[test]
    fn revoked_in_any_file_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let (plain, revoked) = (dir.path().join("fleet"), dir.path().join("user"));
        std::fs::write(&plain, format!("h ssh-ed25519 {K1}\n")).unwrap();
        std::fs::write(&revoked, format!("@revoked h ssh-ed25519 {K1}\n")).unwrap();
        for files in [
            [plain.clone(), revoked.clone()],
            [revoked.clone(), plain.clone()],
        ] {
            assert_eq!(
                check(&files, "h", 22, &key(K1)),
                HostKeyStatus::Revoked {
                    file: revoked.clone(),
                    line: 1
                }
            );
        }
    }

    /// A file that cannot be read might revoke the key: refused, naming the file, at once
    /// (`/dev/zero` is never read whole).
    #[test]
    fn an_unreadable_file_refuses() {
        let zero = PathBuf::from("/dev/zero");
        let t0 = std::time::Instant::now();
        let HostKeyStatus::Unreadable(e) = check(std::slice::from_ref(&zero), "h", 22, &key(K1))
        else {
            panic!("refused expected")
        };
        assert!(
            e.to_string().starts_with("/dev/zero: larger than 4 MiB"),
            "{e}"
        );
        assert!(t0.elapsed() < std::time::Duration::from_secs(5));
        assert!(recorded_algorithms(&[zero], "h", 22).is_empty());
    }

    /// One byte that is not UTF-8 (a Latin-1 comment, a flipped byte) spoils only its own
    /// line: the other entries still decide (fuzzing finding; the file used to be skipped whole,
    /// so a changed key read as unknown).
    #[test]
    fn a_non_utf8_byte_spoils_only_its_own_line() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("known_hosts");
        let mut bytes = b"# caf\xe9\nother ssh-ed25519 \xff\n".to_vec();
        bytes.extend_from_slice(format!("h ssh-ed25519 {K1}\n").as_bytes());
        std::fs::write(&f, bytes).unwrap();
        let files = std::slice::from_ref(&f);
        assert_eq!(check(files, "h", 22, &key(K1)), HostKeyStatus::Known);
        assert_eq!(
            check(files, "h", 22, &key(K2)),
            HostKeyStatus::Changed {
                file: f.clone(),
                line: 3
            }
        );
    }

    /// An RSA host key (ssh-keygen -t rsa -b 2048).
    const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC5zALZiuYb+FPqipzfBPGAKStLUBvTew4AjkqYoJN7bUQRcQtQVpBJ22imnK0VSOnZgp29NjAtjEeDerNUUH9ATO5DikE2a/vDdeoIvu+6UEBWYLXeeoP3kasa5r4nnF2R94HXBU8oSLSR3pILEzhgXhaRdqF4Js3OqoS01nngkkONdwvjDSjADnfHhecB7HYZD801C2uip3F+eYMS+tAbIyyxvlkPv4E2oyaTlPuqixENOQ25cc9+sEfi4lyIUdmBdzP1pyTh+EWwg+xNj7aGi1+kP2FQxZz1ryd03bK4UnOtdkOiVuZoRNTLyVffemza2Ig43tAi0VIA2voncIb7";
}
