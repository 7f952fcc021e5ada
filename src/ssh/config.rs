//! A subset of `ssh_config(5)`, read like OpenSSH: `Host` blocks with `*`/`?` wildcards and
//! `!` negation, first obtained value wins, `IdentityFile` accumulates. Supported keywords:
//! HostName, User, Port, IdentityFile, IdentitiesOnly, ProxyJump, ServerAliveInterval,
//! ServerAliveCountMax, UserKnownHostsFile, HostKeyAlias, and `Include` (with globs). `Match`
//! blocks are skipped (never match), everything else is ignored.
//!
//! Reading is bounded: each file at most [`files::MAX_BYTES`], `Include` at most
//! [`MAX_INCLUDE_DEPTH`] levels deep (OpenSSH's limit) and [`MAX_INCLUDED_FILES`] files in all,
//! so a config that includes itself fails at once with an error naming the file.

use std::path::{Path, PathBuf};

use super::files::{self, FileError};

/// `Include` nesting limit (OpenSSH's READCONF_MAX_DEPTH).
pub const MAX_INCLUDE_DEPTH: usize = 16;
/// Files read through `Include` in all: a file including itself several times would otherwise
/// fan out exponentially within the depth limit.
pub const MAX_INCLUDED_FILES: usize = 256;

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
    pub server_alive_count_max: Option<u32>,
    pub user_known_hosts: Vec<String>,
    pub host_key_alias: Option<String>,
}

impl SshConfig {
    /// Read a file; a missing file is an empty config. `Include` lines are expanded in place
    /// (relative names are taken from the file's directory, `~/` and `*`/`?` in file names
    /// work). A file too large, an Include nested too deeply or too many included files is an
    /// error naming the file, like ssh refusing a bad config.
    pub fn load(path: &Path) -> Result<SshConfig, FileError> {
        let Some(text) = files::read(path)? else {
            return Ok(SshConfig::default());
        };
        let base = path.parent().unwrap_or(Path::new("."));
        let mut budget = Includes::default();
        let expanded = expand_includes(&text, path, base, 0, &mut budget)?;
        Ok(SshConfig::parse(&expanded))
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
                    "serveralivecountmax" => hc.server_alive_count_max = first.parse().ok(),
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

/// What the Includes of one load have used so far.
#[derive(Default)]
struct Includes {
    files: usize,
    bytes: u64,
}

/// `text` (the contents of `file`) with its Include lines replaced by the included files.
fn expand_includes(
    text: &str,
    file: &Path,
    base: &Path,
    depth: usize,
    budget: &mut Includes,
) -> Result<String, FileError> {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let (key, rest) = split_keyword(line.trim());
        if !key.eq_ignore_ascii_case("include") {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if depth >= MAX_INCLUDE_DEPTH {
            return Err(FileError::new(
                file,
                format!(
                    "Include nested more than {MAX_INCLUDE_DEPTH} levels deep (does a file include itself?)"
                ),
            ));
        }
        for pattern in split_args(rest) {
            for inc in include_files(&pattern, base) {
                budget.files += 1;
                if budget.files > MAX_INCLUDED_FILES {
                    return Err(FileError::new(
                        file,
                        format!(
                            "Include reads more than {MAX_INCLUDED_FILES} files (does a file include itself?)"
                        ),
                    ));
                }
                // A missing file is skipped, like ssh does.
                let Some(t) = files::read(&inc)? else {
                    continue;
                };
                budget.bytes += t.len() as u64;
                if budget.bytes > files::MAX_BYTES {
                    return Err(FileError::new(
                        file,
                        format!(
                            "its Includes add up to more than {} MiB",
                            files::MAX_BYTES >> 20
                        ),
                    ));
                }
                let dir = inc.parent().unwrap_or(base);
                out.push_str(&expand_includes(&t, &inc, dir, depth + 1, budget)?);
                out.push('\n');
            }
        }
    }
    Ok(out)
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
    // Most patterns are plain names: no copies for those.
    if !pattern.contains(['*', '?']) {
        return pattern == text;
    }
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

    /// `Include config` twelve times in `config` itself: refused at once, naming the file,
    /// where the unbounded expansion ran for minutes.
    #[test]
    fn a_self_including_config_is_refused_quickly() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config");
        std::fs::write(&cfg, "Include config\n".repeat(12) + "Host x\n  User x\n").unwrap();
        let t0 = std::time::Instant::now();
        let e = SshConfig::load(&cfg).unwrap_err();
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            t0.elapsed()
        );
        assert_eq!(e.path, cfg);
        assert!(e.why.contains("does a file include itself?"), "{e}");
        // Many files without any nesting: the count stops it.
        std::fs::create_dir(dir.path().join("d")).unwrap();
        for i in 0..300 {
            std::fs::write(dir.path().join(format!("d/{i:03}")), "").unwrap();
        }
        let wide = dir.path().join("wide");
        std::fs::write(&wide, "Include d/*\n").unwrap();
        let e = SshConfig::load(&wide).unwrap_err();
        assert!(e.why.contains("Include reads more than 256 files"), "{e}");
        // A chain deeper than 16 levels.
        for i in 0..20 {
            std::fs::write(
                dir.path().join(format!("c{i}")),
                format!("Include c{}\n", i + 1),
            )
            .unwrap();
        }
        let e = SshConfig::load(&dir.path().join("c0")).unwrap_err();
        assert!(e.why.contains("nested more than 16 levels"), "{e}");
        assert_eq!(e.path, dir.path().join("c16"));
        // 16 levels are fine.
        std::fs::write(dir.path().join("c15"), "Host deep\n  User deep\n").unwrap();
        let c = SshConfig::load(&dir.path().join("c0")).unwrap();
        assert_eq!(c.resolve("deep").user.as_deref(), Some("deep"));
    }

    #[test]
    fn an_endless_config_or_include_is_refused() {
        let e = SshConfig::load(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(e.to_string(), "/dev/zero: larger than 4 MiB; not read");
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config");
        std::fs::write(&cfg, "Include /dev/zero\n").unwrap();
        let e = SshConfig::load(&cfg).unwrap_err();
        assert_eq!(e.path, PathBuf::from("/dev/zero"));
        assert_eq!(
            SshConfig::load(&dir.path().join("missing")).unwrap(),
            SshConfig::default()
        );
    }

    #[test]
    fn server_alive_count_max() {
        let c = SshConfig::parse("Host a\n  ServerAliveInterval 5\n  ServerAliveCountMax 2\n");
        let h = c.resolve("a");
        assert_eq!(
            (h.server_alive_interval, h.server_alive_count_max),
            (Some(5), Some(2))
        );
        assert_eq!(c.resolve("b").server_alive_count_max, None);
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
