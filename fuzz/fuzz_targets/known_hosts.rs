//! `known_hosts` as fleetdeck checks host keys: `check` over a file (plain names, `[host]:port`,
//! patterns, negation, hashed entries, `@revoked`, `@cert-authority`), then `learn` (what
//! "accept host key" writes) and `check` again. The file is written byte for byte: a
//! known_hosts file is outside input and need not be UTF-8.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use fleetdeck::ssh::known_hosts::{HostKeyStatus, check, fingerprint, hosts_match, learn};
use libfuzzer_sys::fuzz_target;
use russh::keys::PublicKey;

/// The keys a server can present (ed25519 ×2, RSA, ECDSA); the seeds use the same ones so the
/// fuzzer starts from matching entries.
const KEYS: [&str; 4] = [
    "AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ",
    "AAAAC3NzaC1lZDI1NTE5AAAAIA6rWI3G1sz07DnfFlrouTcysQlj2P+jpNSOEWD9OJ3X",
    "AAAAB3NzaC1yc2EAAAADAQABAAAAgQC6/+YwjdxiTOP9x4Ju6qOhyVKQxUw7otfpC939GoBIZ1J2ZbVSw7D/f8AVaIsDl0YuVnBmeZEVhayNqb2I+lYvutEzP4KrERWAS3hGmQgrtXBzmDVkajZTykqh/lBBGYbYcQL5ghPtuBWxjfDpzrOcYW+OPtH03JLpQ7uULSasBw==",
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGiNRreQyxTA1Yi3Mmq4jLgu0+FC0DGQyjphuD/rWev/1mVoiG6XbQJuTCKmqJqIrjz8PeAPuuItuf+/Ul6B5Mo=",
];

fn keys() -> &'static [PublicKey] {
    static K: OnceLock<Vec<PublicKey>> = OnceLock::new();
    K.get_or_init(|| {
        KEYS.iter()
            .map(|b| russh::keys::parse_public_key_base64(b).expect("fixed key"))
            .collect()
    })
}

/// Per-process scratch files (several fuzzing processes may run at once), in memory when the
/// machine has /dev/shm: `learn` syncs the file, which costs milliseconds on a disk.
fn scratch(name: &str) -> PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("fleetdeck-fuzz-{}-{name}", std::process::id()))
}

fn is_host_name(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b))
}

fuzz_target!(|data: &[u8]| {
    let [sel, rest @ ..] = data else {
        return;
    };
    let key = &keys()[usize::from(*sel) % KEYS.len()];
    let port: u16 = if sel & 0x80 != 0 { 2222 } else { 22 };
    // First line: the host connected to; the rest: the known_hosts file.
    let nl = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let host = String::from_utf8_lossy(&rest[..nl]).into_owned();
    let file_bytes = rest.get(nl + 1..).unwrap_or(&[]);

    let file = scratch("known_hosts");
    std::fs::write(&file, file_bytes).expect("scratch file");
    let status = check(std::slice::from_ref(&file), &host, port, key);
    let lines = file_bytes.split(|&b| b == b'\n').count();
    match &status {
        HostKeyStatus::Changed { file: f, line } | HostKeyStatus::Revoked { file: f, line } => {
            assert_eq!(f, &file, "verdict names another file");
            assert!((1..=lines).contains(line), "line {line} of {lines}");
        }
        HostKeyStatus::Known | HostKeyStatus::Unknown => {}
        // The file is ours and small: only an endless or huge file is unreadable (review L9).
        HostKeyStatus::Unreadable(e) => panic!("a small file reads as unreadable: {e:?}"),
    }
    // The same file listed twice (fleet file and ~/.ssh/known_hosts the same) changes nothing.
    assert_eq!(
        status,
        check(&[file.clone(), file.clone()], &host, port, key)
    );

    for field in file_bytes
        .split(|&b| b == b'\n')
        .take(32)
        .filter_map(|l| std::str::from_utf8(l).ok())
        .filter_map(|l| l.split_whitespace().find(|w| !w.starts_with('@')))
    {
        let _ = hosts_match(field, &host);
    }

    // "Accept host key": after `learn`, the same key for the same host is known (or still
    // revoked), whatever the file held before. Only for real host names: `learn` writes the name
    // as it is, and a pattern character in it would be read back as a pattern.
    if is_host_name(&host) {
        let learned = scratch("learned");
        std::fs::write(&learned, file_bytes).expect("scratch file");
        learn(&learned, &host, port, key).expect("learn");
        let after = check(std::slice::from_ref(&learned), &host, port, key);
        assert!(
            matches!(after, HostKeyStatus::Known | HostKeyStatus::Revoked { .. }),
            "accepted {} for {host}:{port} but it then reads as {after:?}; the file now ends {:?}",
            fingerprint(key),
            String::from_utf8_lossy(&std::fs::read(&learned).unwrap_or_default())
                .chars()
                .rev()
                .take(200)
                .collect::<String>()
                .chars()
                .rev()
                .collect::<String>()
        );
    }
});
