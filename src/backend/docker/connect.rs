//! Find and reach the Docker engine the way the docker CLI does.
//!
//! Resolution ([`resolve`]) is pure: it reads only the [`ResolveEnv`] it is given plus the files
//! under the docker config dir it names, so tests can point it at a temp home. Connecting
//! ([`connect`]) builds a bollard client for the resolved [`Endpoint`] and negotiates the API
//! version, because the engines people run (20.10 = API 1.41) are older than bollard's default.
//!
//! `ssh://` goes through the system OpenSSH client (bollard's `ssh` feature; the remote needs the
//! docker CLI for `docker system dial-stdio`). bollard 0.21.1 cannot pass a port: use an
//! ssh_config alias for non-22 ports (`Host box` / `HostName ...` / `Port 2222`, then `ssh://box`).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bollard::Docker;
use sha2::{Digest, Sha256};

use super::capped::{self, Dial};
use super::error::human_error;

/// Where the docker CLI would look when nothing is configured.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// How long establishing a connection (socket connect + `/version`) may take before the watch
/// loop reports the engine as unreachable. Ordinary requests keep bollard's 2-minute timeout:
/// `stop` legitimately waits for the container's grace period.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The inputs of endpoint resolution: the environment variables the docker CLI reads, the home
/// directory, and a host from fleetdeck's own config. Kept as data so resolution is testable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolveEnv {
    /// `host:` of a `docker:` source in fleetdeck's config; wins over everything (like `-H`).
    pub config_host: Option<String>,
    pub docker_host: Option<String>,
    pub docker_context: Option<String>,
    /// `DOCKER_CONFIG`: the CLI config dir (default `~/.docker`).
    pub docker_config: Option<PathBuf>,
    pub docker_tls_verify: Option<String>,
    pub docker_cert_path: Option<PathBuf>,
    pub home: Option<PathBuf>,
}

impl ResolveEnv {
    /// Read the real process environment.
    pub fn from_process(config_host: Option<String>) -> Self {
        // Empty variables count as unset, as in the docker CLI.
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        ResolveEnv {
            config_host: config_host.filter(|h| !h.is_empty()),
            docker_host: var("DOCKER_HOST"),
            docker_context: var("DOCKER_CONTEXT"),
            docker_config: var("DOCKER_CONFIG").map(PathBuf::from),
            docker_tls_verify: var("DOCKER_TLS_VERIFY"),
            docker_cert_path: var("DOCKER_CERT_PATH").map(PathBuf::from),
            home: var("HOME").map(PathBuf::from),
        }
    }

    /// The docker CLI config dir: `$DOCKER_CONFIG`, else `~/.docker`.
    pub fn config_dir(&self) -> Option<PathBuf> {
        self.docker_config
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".docker")))
    }
}

/// TLS material for a `tcp://`/`https://` endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A concrete way to reach an engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `unix:///path/to/docker.sock`
    Unix(PathBuf),
    /// Plain HTTP (`tcp://host:port` or `http://host:port`); `addr` is `host:port`.
    Http { addr: String },
    /// HTTPS with client certificates; `skip_verify` comes from a context's `SkipTLSVerify`.
    Tls {
        addr: String,
        files: TlsFiles,
        skip_verify: bool,
    },
    /// `ssh://[user@]host` through the system OpenSSH client.
    Ssh { target: String },
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Unix(p) => write!(f, "unix://{}", p.display()),
            Endpoint::Http { addr } => write!(f, "tcp://{addr}"),
            Endpoint::Tls { addr, .. } => write!(f, "https://{addr}"),
            Endpoint::Ssh { target } => write!(f, "ssh://{target}"),
        }
    }
}

/// Where an endpoint came from, shown in the header so "why am I looking at this engine?" has
/// an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Config,
    DockerHost,
    Context(String),
    DefaultSocket,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Config => f.write_str("config"),
            Origin::DockerHost => f.write_str("DOCKER_HOST"),
            Origin::Context(name) => write!(f, "context {name}"),
            Origin::DefaultSocket => f.write_str("default socket"),
        }
    }
}

/// The outcome of resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub endpoint: Endpoint,
    pub origin: Origin,
}

/// Resolve like the docker CLI: config host, then `DOCKER_HOST`, then the context named by
/// `DOCKER_CONTEXT` or `currentContext` in `config.json`, then the default socket.
/// Errors are human sentences (a missing context, a malformed URL).
pub fn resolve(env: &ResolveEnv) -> Result<Resolved, String> {
    if let Some(host) = &env.config_host {
        return Ok(Resolved {
            endpoint: parse_host(host, env)?,
            origin: Origin::Config,
        });
    }
    if let Some(host) = &env.docker_host {
        return Ok(Resolved {
            endpoint: parse_host(host, env)?,
            origin: Origin::DockerHost,
        });
    }
    let context = match &env.docker_context {
        Some(name) => Some(name.clone()),
        None => current_context(env)?,
    };
    match context {
        Some(name) if name != "default" => Ok(Resolved {
            endpoint: context_endpoint(&name, env)?,
            origin: Origin::Context(name),
        }),
        _ => Ok(Resolved {
            endpoint: Endpoint::Unix(PathBuf::from(DEFAULT_SOCKET)),
            origin: Origin::DefaultSocket,
        }),
    }
}

/// `currentContext` from `<config dir>/config.json`; a missing file means "no context".
fn current_context(env: &ResolveEnv) -> Result<Option<String>, String> {
    let Some(dir) = env.config_dir() else {
        return Ok(None);
    };
    let path = dir.join("config.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {}", path.display(), io_text(&e))),
    };
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not valid JSON: {e}", path.display()))?;
    Ok(json
        .get("currentContext")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_owned))
}

/// The docker CLI stores a context under the SHA-256 of its name (so any name is a safe path).
pub fn context_hash(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn context_endpoint(name: &str, env: &ResolveEnv) -> Result<Endpoint, String> {
    let dir = env
        .config_dir()
        .ok_or_else(|| format!("docker context {name:?}: no home directory to look for it in"))?;
    let hash = context_hash(name);
    let meta = dir
        .join("contexts")
        .join("meta")
        .join(&hash)
        .join("meta.json");
    let text = std::fs::read_to_string(&meta).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("docker context {name:?} not found (no {})", meta.display())
        } else {
            format!("cannot read {}: {}", meta.display(), io_text(&e))
        }
    })?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not valid JSON: {e}", meta.display()))?;
    let docker = json.pointer("/Endpoints/docker");
    let host = docker
        .and_then(|d| d.get("Host"))
        .and_then(|h| h.as_str())
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("docker context {name:?} has no docker endpoint host"))?;
    let skip_verify = docker
        .and_then(|d| d.get("SkipTLSVerify"))
        .and_then(|v| v.as_bool())
        .unwrap_or(false);

    let tls_dir = dir.join("contexts").join("tls").join(&hash).join("docker");
    let files = TlsFiles {
        ca: tls_dir.join("ca.pem"),
        cert: tls_dir.join("cert.pem"),
        key: tls_dir.join("key.pem"),
    };
    let has_tls = files.ca.exists() || files.cert.exists() || files.key.exists();

    match split_scheme(host) {
        // As in the CLI: TLS when the context has TLS material or asks to skip verification.
        Some(("tcp" | "http" | "https", addr)) if has_tls || skip_verify => Ok(Endpoint::Tls {
            addr: addr.to_owned(),
            files,
            skip_verify,
        }),
        Some(("https", addr)) => Ok(Endpoint::Tls {
            addr: addr.to_owned(),
            files,
            skip_verify,
        }),
        _ => parse_plain_host(host),
    }
}

/// A `DOCKER_HOST`-style URL; TLS per `DOCKER_TLS_VERIFY` + `DOCKER_CERT_PATH` like the CLI.
fn parse_host(host: &str, env: &ResolveEnv) -> Result<Endpoint, String> {
    let tls_wanted = env.docker_tls_verify.is_some();
    match split_scheme(host) {
        Some(("tcp" | "http", addr)) if tls_wanted => Ok(Endpoint::Tls {
            addr: addr.to_owned(),
            files: cert_path_files(env),
            skip_verify: false,
        }),
        Some(("https", addr)) => Ok(Endpoint::Tls {
            addr: addr.to_owned(),
            files: cert_path_files(env),
            skip_verify: false,
        }),
        _ => parse_plain_host(host),
    }
}

fn cert_path_files(env: &ResolveEnv) -> TlsFiles {
    let dir = env
        .docker_cert_path
        .clone()
        .or_else(|| env.config_dir())
        .unwrap_or_else(|| PathBuf::from("."));
    TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    }
}

fn parse_plain_host(host: &str) -> Result<Endpoint, String> {
    match split_scheme(host) {
        Some(("unix", path)) if !path.is_empty() => Ok(Endpoint::Unix(PathBuf::from(path))),
        Some(("tcp" | "http", addr)) if !addr.is_empty() => Ok(Endpoint::Http {
            addr: addr.trim_end_matches('/').to_owned(),
        }),
        Some(("ssh", target)) if !target.is_empty() => Ok(Endpoint::Ssh {
            target: ssh_target(target)?,
        }),
        Some(("npipe", _)) => Err(format!(
            "{host}: Windows named pipes are not supported on this system"
        )),
        _ => Err(format!(
            "unsupported Docker host {host:?}: use unix:///path, tcp://host:port, https://host:port or ssh://user@host"
        )),
    }
}

/// bollard 0.21.1 passes `user@host:port` to ssh as a host name, so a port other than 22 cannot
/// work; say how to get one instead of failing later with a confusing ssh error.
fn ssh_target(target: &str) -> Result<String, String> {
    let target = target.trim_end_matches('/');
    let host_part = target.rsplit('@').next().unwrap_or(target);
    match host_part.rsplit_once(':') {
        // A bracketed IPv6 literal without port has its last ':' inside the brackets.
        Some((_, port)) if !host_part.ends_with(']') => {
            if port == "22" {
                Ok(target[..target.len() - 3].to_owned())
            } else {
                Err(format!(
                    "ssh://{target}: a port in an ssh:// Docker host is not supported; use an ssh_config \
                     alias for non-22 ports (Host myalias / HostName ... / Port {port} in ~/.ssh/config, \
                     then ssh://myalias)"
                ))
            }
        }
        _ => Ok(target.to_owned()),
    }
}

fn split_scheme(url: &str) -> Option<(&str, &str)> {
    url.split_once("://")
}

/// A client for `endpoint`, not negotiated: nothing is sent until its first request. Errors
/// are human sentences (unreadable TLS files...).
pub fn client(endpoint: &Endpoint) -> Result<Docker, String> {
    client_for(endpoint).map_err(|e| human_error(endpoint, &e))
}

/// Build a client for `endpoint`. Never blocks on the network: bollard connects per request.
fn client_for(endpoint: &Endpoint) -> Result<Docker, bollard::errors::Error> {
    let version = bollard::API_DEFAULT_VERSION;
    // Keep bollard's default request timeout; slow calls (stop with a grace period) need it.
    let timeout = 120;
    // Socket, plain TCP and SkipTLSVerify go through the capped transport (an endless answer
    // is an error, not gigabytes); verified TLS and ssh:// keep bollard's own.
    match endpoint {
        Endpoint::Unix(path) => {
            capped::docker(Dial::Unix(path.clone()), "http://docker".into(), timeout)
        }
        Endpoint::Http { addr } => capped::docker(Dial::Tcp, format!("http://{addr}"), timeout),
        Endpoint::Tls {
            addr,
            files,
            skip_verify: false,
        } => Docker::connect_with_ssl(
            &format!("tcp://{addr}"),
            &files.key,
            &files.cert,
            &files.ca,
            timeout,
            version,
        ),
        Endpoint::Tls {
            addr,
            files,
            skip_verify: true,
        } => capped::docker(
            Dial::Tls(Arc::new(super::tls_insecure::config(files)?)),
            format!("https://{addr}"),
            timeout,
        ),
        Endpoint::Ssh { target } => {
            Docker::connect_with_ssh(&format!("ssh://{target}"), timeout, version, None)
        }
    }
}

/// A connected, version-negotiated client plus the engine facts the header shows.
#[derive(Debug, Clone)]
pub struct Connection {
    pub docker: Docker,
    /// "20.10.24" (distribution suffixes like "+dfsg1" dropped).
    pub engine_version: String,
    /// The negotiated API version, "1.41".
    pub api_version: String,
}

impl Connection {
    /// "Docker 20.10.24 · API 1.41 · context prod"
    pub fn status_text(&self, origin: &Origin) -> String {
        format!(
            "Docker {} · API {} · {}",
            self.engine_version, self.api_version, origin
        )
    }
}

/// Connect and negotiate the API version. The error is a human sentence naming the endpoint.
pub async fn connect(endpoint: &Endpoint) -> Result<Connection, String> {
    let fail = |e: &bollard::errors::Error| human_error(endpoint, e);
    let docker = client(endpoint)?;
    // One `GET /version` gives both the engine's version and its API version (bollard's
    // `negotiate_version` asks for the same document and keeps only the latter; bollard's
    // request paths carry no version either way, so its negotiated value is only shown).
    let version = tokio::time::timeout(CONNECT_TIMEOUT, docker.version())
        .await
        .map_err(|_| {
            format!(
                "cannot reach Docker at {endpoint}: no answer within {}s",
                CONNECT_TIMEOUT.as_secs()
            )
        })?
        .map_err(|e| fail(&e))?;
    let engine_version = version
        .version
        .as_deref()
        .map(|v| v.split('+').next().unwrap_or(v))
        .map(crate::term::sanitize::sanitize_plain)
        .unwrap_or_else(|| "?".into());
    let api_version = negotiated(version.api_version.as_deref())
        .ok_or_else(|| format!("Docker at {endpoint} did not say its API version"))?;
    tracing::debug!(%endpoint, %engine_version, %api_version, "connected to docker");
    Ok(Connection {
        docker,
        engine_version,
        api_version,
    })
}

/// The API version both sides speak: the engine's ("1.41"), or bollard's when the engine is
/// newer. None when the engine's answer has no version that parses.
fn negotiated(engine: Option<&str>) -> Option<String> {
    let (major, minor) = engine?.split_once('.')?;
    let engine = (major.parse::<usize>().ok()?, minor.parse::<usize>().ok()?);
    let ours = bollard::API_DEFAULT_VERSION;
    let (major, minor) = engine.min((ours.major_version, ours.minor_version));
    Some(format!("{major}.{minor}"))
}

fn io_text(e: &std::io::Error) -> String {
    super::error::io_error_text(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_version_is_the_lower_of_the_engines_and_ours() {
        assert_eq!(negotiated(Some("1.41")).as_deref(), Some("1.41"));
        let ours = bollard::API_DEFAULT_VERSION;
        let newer = format!("{}.{}", ours.major_version, ours.minor_version + 7);
        let expected = format!("{}.{}", ours.major_version, ours.minor_version);
        assert_eq!(negotiated(Some(&newer)), Some(expected));
        assert_eq!(
            negotiated(Some("1.9")).as_deref(),
            Some("1.9"),
            "numbers, not text"
        );
        assert_eq!(negotiated(Some("x")), None);
        assert_eq!(negotiated(None), None);
    }

    #[test]
    fn ssh_ports_other_than_22_explain_the_alias_workaround() {
        assert_eq!(ssh_target("me@box").unwrap(), "me@box");
        assert_eq!(ssh_target("me@box:22").unwrap(), "me@box");
        let err = ssh_target("me@box:2222").unwrap_err();
        assert!(err.contains("ssh_config alias"), "{err}");
    }

    #[test]
    fn plain_hosts_parse() {
        assert_eq!(
            parse_plain_host("unix:///x.sock").unwrap(),
            Endpoint::Unix("/x.sock".into())
        );
        assert_eq!(
            parse_plain_host("tcp://h:2375").unwrap(),
            Endpoint::Http {
                addr: "h:2375".into()
            }
        );
        assert!(
            parse_plain_host("ftp://h")
                .unwrap_err()
                .contains("unsupported")
        );
    }

    #[test]
    fn context_hash_matches_the_docker_cli() {
        // sha256("default"), as `docker context inspect` stores it.
        assert_eq!(
            context_hash("default"),
            "37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f"
        );
    }
}
