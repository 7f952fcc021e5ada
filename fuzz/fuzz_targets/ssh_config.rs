//! `ssh_config(5)` as fleetdeck reads it: `SshConfig::parse` and `resolve` (Host patterns with
//! wildcards and negation, first value wins), then what the connection does with the result:
//! `parse_jump` on every ProxyJump hop and `expand_path` on identity and known_hosts files.
//! `Include` is left out: it reads other files (its fan-out is review item L9).
#![no_main]

use std::path::Path;

use fleetdeck::ssh::config::{SshConfig, expand_path, host_matches, parse_jump};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // First line: the host as the user typed it; the rest: the config file.
    let (host, config) = text.split_once('\n').unwrap_or(("gw", &text));
    let cfg = SshConfig::parse(config);
    let hc = cfg.resolve(host);
    assert_eq!(hc, cfg.resolve(host), "resolve is not deterministic");
    // The real name is resolved again when the alias names another host, as the client does.
    if let Some(real) = &hc.host_name {
        let _ = cfg.resolve(real);
    }
    let _ = host_matches(host, &[config.lines().next().unwrap_or("").to_string()]);

    for hop in hc.proxy_jump.iter().flatten() {
        assert!(!hop.is_empty(), "empty ProxyJump hop kept");
        let (user, h, _port) = parse_jump(hop);
        assert!(
            !h.contains('@'),
            "the user part leaked into the host: {h:?}"
        );
        if let Some(u) = user {
            assert!(hop.contains(&u));
        }
    }
    let home = Path::new("/home/op");
    let port = hc.port.unwrap_or(22);
    let user = hc.user.as_deref().unwrap_or("op");
    for f in hc.identity_files.iter().chain(&hc.user_known_hosts) {
        let _ = expand_path(f, host, port, user, home);
    }
});
