//! A subset of `ssh_config(5)`, read like OpenSSH: `Host` blocks with `*`/`?` wildcards and
//! `!` negation, first obtained value wins, `IdentityFile` accumulates. Supported keywords:
//! HostName, User, Port, IdentityFile, IdentitiesOnly, ProxyJump, ServerAliveInterval,
//! UserKnownHostsFile, HostKeyAlias, and `Include` (with globs). `Match` blocks are skipped
//! (never match), everything else is ignored.

use std::path::{Path, PathBuf};

/// One `Host` block.
#[derive(Debug, Clone, Default, PartialEq)]
struct Block {
    patterns: Vec<String>,
    options: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SshConfig {
    blocks: Vec<Block>,
}

/// What the config says about one host (before command-line style overrides).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostConfig {
    pub host_name: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_files: Vec<String>,
    pub identities_only: bool,
    /// `none` is mapped to an empty list.
    pub proxy_jump: Option<Vec<String>>,
    pub server_alive_interval: Option<u64>,
    pub user_known_hosts: Vec<String>,
    pub host_key_alias: Option<String>,
}

impl SshConfig {
    /// Read a file; a missing file is an empty config. `Include` lines are expanded in place
    /// (relative names are taken from the file's directory, `~/` and `*`/`?` in file names
    /// work), nested up to 8 levels like ssh.
    pub fn load(path: &Path) -> std::io::Result<SshConfig> {
        match std::fs::read_to_string(path) {
            Ok(t) => {
                let base = path.parent().unwrap_or(Path::new("."));
                Ok(SshConfig::parse(&expand_includes(&t, base, 0)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SshConfig::default()),
            Err(e) => Err(e),
        }
    }

    pub fn parse(text: &str) -> SshConfig {
        // Options before any Host line apply to every host.
        let mut blocks = vec![Block {
            patterns: vec!["*".into()],
            options: Vec::new(),
        }];
        for raw in text.lines() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, rest) = split_keyword(line);
            let key = key.to_ascii_lowercase();
            let args = split_args(rest);
            match key.as_str() {
                "host" => blocks.push(Block {
                    patterns: args,
                    options: Vec::new(),
                }),
                // Unsupported conditional block: nothing in it applies.
                "match" => blocks.push(Block {
                    patterns: Vec::new(),
                    options: Vec::new(),
                }),
                _ => {
                    if let Some(b) = blocks.last_mut() {
                        b.options.push((key, args));
                    }
                }
            }
        }
        SshConfig { blocks }
    }

    /// The settings for `host` (the name as typed: an alias or a real name).
    pub fn resolve(&self, host: &str) -> HostConfig {
        let mut hc = HostConfig::default();
        let mut seen: std::collections::HashSet<String> = Default::default();
        for b in &self.blocks {
            if !host_matches(host, &b.patterns) {
                continue;
            }
            for (key, args) in &b.options {
                let Some(first) = args.first() else { continue };
                if key == "identityfile" {
                    hc.identity_files.push(first.clone());
                    continue;
                }
                if key == "userknownhostsfile" {
                    if seen.insert(key.clone()) {
                        hc.user_known_hosts = args.clone();
                    }
                    continue;
                }
                if !seen.insert(key.clone()) {
                    continue;
                }
                match key.as_str() {
                    "hostname" => hc.host_name = Some(first.clone()),
                    "user" => hc.user = Some(first.clone()),
                    "port" => hc.port = first.parse().ok(),
                    "identitiesonly" => hc.identities_only = yes(first),
                    "proxyjump" => {
                        hc.proxy_jump = Some(if first.eq_ignore_ascii_case("none") {
                            Vec::new()
                        } else {
                            first
                                .split(',')
                                .map(str::trim)
                                .filter(|s| !s.is_empty())
                                .map(String::from)
                                .collect()
                        })
                    }
                    "serveraliveinterval" => hc.server_alive_interval = first.parse().ok(),
                    "hostkeyalias" => hc.host_key_alias = Some(first.clone()),
                    _ => {}
                }
            }
        }
        hc
    }
}

fn yes(s: &str) -> bool {
    matches!(s.to_ascii_lowercase().as_str(), "yes" | "true")
}

fn expand_includes(text: &str, base: &Path, depth: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let (key, rest) = split_keyword(line.trim());
        if !key.eq_ignore_ascii_case("include") {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if depth >= 8 {
            tracing::warn!("ssh_config: Include nested too deeply");
            continue;
        }
        for pattern in split_args(rest) {
            for file in include_files(&pattern, base) {
                if let Ok(t) = std::fs::read_to_string(&file) {
                    let dir = file.parent().unwrap_or(base);
                    out.push_str(&expand_includes(&t, dir, depth + 1));
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// Files an Include pattern names, sorted (wildcards only in the last component).
fn include_files(pattern: &str, base: &Path) -> Vec<PathBuf> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let path = if let Some(rest) = pattern.strip_prefix("~/") {
        home.join(rest)
    } else if Path::new(pattern).is_absolute() {
        PathBuf::from(pattern)
    } else {
        base.join(pattern)
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains(['*', '?']) {
        return vec![path];
    }
    let dir = path.parent().unwrap_or(base);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| wildcard(&name, &e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// `Keyword value`, `Keyword=value` or `Keyword = value`.
fn split_keyword(line: &str) -> (&str, &str) {
    let end = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let (key, rest) = line.split_at(end);
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim_start();
    (key, rest)
}

/// Whitespace-separated arguments with double quotes.
fn split_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// A host matches a pattern list when one positive pattern matches and no negated one does.
pub fn host_matches(host: &str, patterns: &[String]) -> bool {
    let mut matched = false;
    for p in patterns {
        for p in p.split(',') {
            if let Some(neg) = p.strip_prefix('!') {
                if wildcard(&neg.to_ascii_lowercase(), &host.to_ascii_lowercase()) {
                    return false;
                }
            } else if wildcard(&p.to_ascii_lowercase(), &host.to_ascii_lowercase()) {
                matched = true;
            }
        }
    }
    matched
}

/// `*` any run, `?` exactly one character.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// `~/` and the tokens `%h %p %r %u %d %%` in file names (IdentityFile, UserKnownHostsFile).
pub fn expand_path(s: &str, host: &str, port: u16, user: &str, home: &Path) -> PathBuf {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some('h') => out.push_str(host),
                Some('p') => out.push_str(&port.to_string()),
                Some('r') => out.push_str(user),
                Some('u') => out.push_str(&local_user()),
                Some('d') => out.push_str(&home.to_string_lossy()),
                Some('%') => out.push('%'),
                Some(o) => {
                    out.push('%');
                    out.push(o);
                }
                None => out.push('%'),
            }
        } else {
            out.push(c);
        }
    }
    if let Some(rest) = out.strip_prefix("~/") {
        home.join(rest)
    } else if out == "~" {
        home.to_path_buf()
    } else {
        PathBuf::from(out)
    }
}

pub fn local_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "root".into())
}

/// `[user@]host[:port]` of a ProxyJump entry.
pub fn parse_jump(s: &str) -> (Option<String>, String, Option<u16>) {
    let s = s.strip_prefix("ssh://").unwrap_or(s);
    let (user, rest) = match s.rsplit_once('@') {
        Some((u, r)) => (Some(u.to_string()), r),
        None => (None, s),
    };
    // [v6]:port
    if let Some(inner) = rest.strip_prefix('[')
        && let Some((h, after)) = inner.split_once(']')
    {
        let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
        return (user, h.to_string(), port);
    }
    match rest.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => (user, h.to_string(), p.parse().ok()),
        _ => (user, rest.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard("*", "x"));
        assert!(wildcard("web-?", "web-1"));
        assert!(!wildcard("web-?", "web-12"));
        assert!(wildcard("*.prod.example", "a.prod.example"));
        assert!(!wildcard("*.prod.example", "prod.example"));
        assert!(wildcard("a*b*c", "axxbyyc"));
    }

    #[test]
    fn first_value_wins_and_negation() {
        let c = SshConfig::parse(
            "# comment\n\
             Host bastion\n  HostName 10.0.0.1\n  User jump\n\
             Host dev-* !dev-secret\n  User devuser\n  Port 2222\n  ProxyJump bastion\n  IdentityFile ~/.ssh/dev\n\
             Host *\n  User fallback\n  IdentityFile=~/.ssh/id_ed25519\n  ServerAliveInterval 15\n",
        );
        let h = c.resolve("dev-1");
        assert_eq!(h.user.as_deref(), Some("devuser"));
        assert_eq!(h.port, Some(2222));
        assert_eq!(h.proxy_jump, Some(vec!["bastion".to_string()]));
        assert_eq!(h.identity_files, ["~/.ssh/dev", "~/.ssh/id_ed25519"]);
        assert_eq!(h.server_alive_interval, Some(15));
        let s = c.resolve("dev-secret");
        assert_eq!(s.user.as_deref(), Some("fallback"), "negated");
        assert_eq!(s.proxy_jump, None);
        let b = c.resolve("BASTION");
        assert_eq!(b.host_name.as_deref(), Some("10.0.0.1"));
    }

    #[test]
    fn match_blocks_are_skipped_and_quotes_work() {
        let c = SshConfig::parse(
            "Match host x\n  User nope\nHost \"a b\" c\n  IdentityFile \"/k/with space\"\n",
        );
        assert_eq!(c.resolve("x").user, None);
        assert_eq!(c.resolve("c").identity_files, ["/k/with space"]);
        assert_eq!(c.resolve("a b").identity_files.len(), 1);
    }

    #[test]
    fn includes_expand_in_place_with_globs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("config.d")).unwrap();
        std::fs::write(
            dir.path().join("config.d/10-site"),
            "Host gw-*\n  User site\n  Port 2200\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("config.d/20-other"), "Host x\n  User x\n").unwrap();
        std::fs::write(
            dir.path().join("config"),
            "Include config.d/*\nHost *\n  User fallback\n",
        )
        .unwrap();
        let c = SshConfig::load(&dir.path().join("config")).unwrap();
        assert_eq!(c.resolve("gw-1").user.as_deref(), Some("site"));
        assert_eq!(c.resolve("gw-1").port, Some(2200));
        assert_eq!(c.resolve("x").user.as_deref(), Some("x"));
        assert_eq!(c.resolve("other").user.as_deref(), Some("fallback"));
    }

    #[test]
    fn jumps_and_paths() {
        assert_eq!(
            parse_jump("me@jump:2200"),
            (Some("me".into()), "jump".into(), Some(2200))
        );
        assert_eq!(parse_jump("jump"), (None, "jump".into(), None));
        assert_eq!(parse_jump("[::1]:22"), (None, "::1".into(), Some(22)));
        let home = Path::new("/home/u");
        assert_eq!(
            expand_path("~/.ssh/%h_%p_%r", "h", 22, "r", home),
            PathBuf::from("/home/u/.ssh/h_22_r")
        );
    }
}
