//! russh client used like OpenSSH: resolve through ssh_config, ProxyJump chains, strict host
//! key checking against known_hosts, ssh-agent then identity files, exec, PTY shells.
//!
//! Liveness: every session sends keepalives (ServerAliveInterval × ServerAliveCountMax from
//! ssh_config, 15 s × 3 when unset) and its TCP socket has keepalive on, so a device that
//! freezes ends the session with an error instead of a hang; opening a channel and starting a
//! command each have their own timeout. A command that was cut by a lost session is an error,
//! never an exit status.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use russh::ChannelMsg;
use russh::client::{self, Handle};
use russh::keys::{Algorithm, PublicKey, PublicKeyOrCertificate};
use tokio::sync::mpsc;

use super::auth;
use super::config::{self, SshConfig};
use super::files::FileError;
use super::known_hosts::{self, HostKeyStatus};
use super::server_id::{self, SniffId};
use crate::backend::ShellSession;

/// Process-wide SSH settings: where to read config and known_hosts, how long to wait.
#[derive(Debug, Clone)]
pub struct SshOptions {
    pub config: Arc<SshConfig>,
    pub home: PathBuf,
    /// `~/.ssh/known_hosts` (also where accepted keys go when the fleet names no file).
    pub user_known_hosts: PathBuf,
    /// ssh-agent socket (SSH_AUTH_SOCK); None = no agent.
    pub agent: Option<PathBuf>,
    pub connect_timeout: Duration,
}

impl SshOptions {
    /// From `$HOME/.ssh`, like ssh. A `~/.ssh/config` that cannot be used (too large, an
    /// Include loop) is an error naming the file, as ssh refuses to run with it.
    pub fn load_home() -> Result<SshOptions, FileError> {
        let home = home_dir();
        let config = SshConfig::load(&home.join(".ssh/config"))?;
        Ok(Self::with_config(home, config))
    }

    /// Like [`SshOptions::load_home`], but a `~/.ssh/config` that cannot be used is logged and
    /// left out (for callers that have no way to report it).
    pub fn from_home() -> SshOptions {
        Self::load_home().unwrap_or_else(|e| {
            tracing::warn!("{e}");
            Self::with_config(home_dir(), SshConfig::default())
        })
    }

    fn with_config(home: PathBuf, config: SshConfig) -> SshOptions {
        SshOptions {
            config: Arc::new(config),
            user_known_hosts: home.join(".ssh/known_hosts"),
            home,
            agent: std::env::var_os("SSH_AUTH_SOCK")
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

fn home_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// What a device entry says; unset fields come from ssh_config, then defaults.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// The name looked up in ssh_config (an alias or a host name).
    pub host: String,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_files: Vec<PathBuf>,
    /// Checked before `~/.ssh/known_hosts`.
    pub known_hosts: Vec<PathBuf>,
}

/// One hop, fully resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Name the host key is recorded under (HostKeyAlias or host).
    pub key_name: String,
    pub identity_files: Vec<PathBuf>,
    pub identities_only: bool,
    pub known_hosts: Vec<PathBuf>,
    /// Seconds of silence before a keepalive (ServerAliveInterval).
    pub alive_interval: u64,
    /// Unanswered keepalives before the session is given up (ServerAliveCountMax).
    pub alive_count: u32,
}

/// Keepalive interval when ssh_config sets none (OpenSSH sends none by default; fleetdeck
/// always does, so a frozen device cannot hang a command).
pub const DEFAULT_ALIVE_INTERVAL: u64 = 15;
/// Unanswered keepalives tolerated when ssh_config sets none (OpenSSH's default).
pub const DEFAULT_ALIVE_COUNT: u32 = 3;

/// Jumps first, the destination last.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub hops: Vec<Hop>,
}

impl Route {
    // Every constructor puts the destination last, after its jump hops.
    #[allow(clippy::expect_used, reason = "a route always has its destination")]
    pub fn dest(&self) -> &Hop {
        self.hops.last().expect("a route has a destination")
    }
}

fn resolve_hop(
    alias: &str,
    user: Option<&str>,
    port: Option<u16>,
    extra_ids: &[PathBuf],
    extra_known: &[PathBuf],
    opts: &SshOptions,
) -> (Hop, Option<Vec<String>>) {
    let hc = opts.config.resolve(alias);
    let host = hc.host_name.clone().unwrap_or_else(|| alias.to_string());
    let port = port.or(hc.port).unwrap_or(22);
    let user = user
        .map(String::from)
        .or(hc.user.clone())
        .unwrap_or_else(config::local_user);
    let home = &opts.home;
    let mut ids: Vec<PathBuf> = extra_ids.to_vec();
    ids.extend(
        hc.identity_files
            .iter()
            .map(|f| config::expand_path(f, &host, port, &user, home)),
    );
    let mut known: Vec<PathBuf> = extra_known.to_vec();
    if hc.user_known_hosts.is_empty() {
        known.push(opts.user_known_hosts.clone());
    } else {
        known.extend(
            hc.user_known_hosts
                .iter()
                .map(|f| config::expand_path(f, &host, port, &user, home)),
        );
    }
    let hop = Hop {
        key_name: hc.host_key_alias.clone().unwrap_or_else(|| host.clone()),
        host,
        port,
        user,
        identity_files: ids,
        identities_only: hc.identities_only,
        known_hosts: known,
        // `ServerAliveInterval 0` (off in OpenSSH) is taken as unset: a session without
        // keepalives cannot tell a frozen device from a quiet one.
        alive_interval: hc
            .server_alive_interval
            .filter(|s| *s > 0)
            .unwrap_or(DEFAULT_ALIVE_INTERVAL),
        // 0 would mean "never give up" to russh.
        alive_count: hc
            .server_alive_count_max
            .unwrap_or(DEFAULT_ALIVE_COUNT)
            .max(1),
    };
    (hop, hc.proxy_jump)
}

/// Resolve a target like `ssh` would: its ssh_config entry, then its ProxyJump chain.
pub fn resolve(target: &Target, opts: &SshOptions) -> Route {
    let (dest, jumps) = resolve_hop(
        &target.host,
        target.user.as_deref(),
        target.port,
        &target.identity_files,
        &target.known_hosts,
        opts,
    );
    let mut hops = Vec::new();
    for j in jumps.unwrap_or_default() {
        let (user, host, port) = config::parse_jump(&j);
        // Jump hosts are checked against the same known_hosts files as the device.
        let (hop, _) = resolve_hop(&host, user.as_deref(), port, &[], &target.known_hosts, opts);
        hops.push(hop);
    }
    hops.push(dest);
    Route { hops }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum SshError {
    #[error("{0}")]
    Connect(String),
    #[error("host key of {host} is not known ({fingerprint}); accept it explicitly (A) to connect")]
    UnknownHostKey {
        host: String,
        port: u16,
        fingerprint: String,
        key: Box<PublicKey>,
    },
    #[error(
        "HOST KEY CHANGED for {host} (now {fingerprint}); {file}:{line} has another key. If the change is expected, remove that line from known_hosts"
    )]
    ChangedHostKey {
        host: String,
        fingerprint: String,
        file: String,
        line: usize,
    },
    #[error("REVOKED HOST KEY for {host} ({fingerprint}): {file}:{line} marks it @revoked")]
    RevokedHostKey {
        host: String,
        fingerprint: String,
        file: String,
        line: usize,
    },
    #[error("cannot check the host key of {host}: known_hosts {error}")]
    KnownHostsUnreadable { host: String, error: String },
    #[error("passphrase needed for {}", key.display())]
    PassphraseNeeded { key: PathBuf },
    #[error("{tries} wrong passphrases for {}", key.display())]
    BadPassphrase { key: PathBuf, tries: u32 },
    #[error("permission denied for {user}@{host} (tried: {tried})")]
    AuthFailed {
        user: String,
        host: String,
        tried: String,
    },
    #[error("timed out after {0}s")]
    Timeout(u64),
}

/// The host-key verdict the handler saw, read after a refused handshake.
type Verdict = Arc<std::sync::Mutex<Option<(HostKeyStatus, PublicKey)>>>;

/// Why an established session ended, written by the handler when it does.
type Ended = Arc<std::sync::Mutex<Option<String>>>;

pub struct Client {
    hop: Hop,
    verdict: Verdict,
    ended: Ended,
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            // Host certificates need @cert-authority support: refuse rather than guess.
            return Ok(false);
        };
        let status = known_hosts::check(
            &self.hop.known_hosts,
            &self.hop.key_name,
            self.hop.port,
            key,
        );
        let ok = status == HostKeyStatus::Known;
        if let Ok(mut v) = self.verdict.lock() {
            *v = Some((status, key.clone()));
        }
        Ok(ok)
    }

    /// Called once the session is over: keep why, for the commands it cut short.
    async fn disconnected(
        &mut self,
        reason: client::DisconnectReason<Self::Error>,
    ) -> Result<(), Self::Error> {
        let (why, result) = match reason {
            client::DisconnectReason::ReceivedDisconnect(_) => {
                ("the device closed the connection".to_string(), Ok(()))
            }
            client::DisconnectReason::Error(russh::Error::KeepaliveTimeout) => (
                format!(
                    "no answer to {} keepalives {}s apart: the device is frozen or unreachable",
                    self.hop.alive_count, self.hop.alive_interval
                ),
                Err(russh::Error::KeepaliveTimeout),
            ),
            client::DisconnectReason::Error(e) => (e.to_string(), Err(e)),
        };
        if let Ok(mut slot) = self.ended.lock() {
            slot.get_or_insert(why);
        }
        result
    }
}

/// An authenticated session (and the jump sessions it tunnels through).
pub struct Connection {
    pub handle: Handle<Client>,
    _jumps: Vec<Arc<Connection>>,
    pub route: Route,
    ended: Ended,
    /// Bound on each step of a command (opening its channel, starting it).
    step: Duration,
    /// How to log in again: a command that finds a one-at-a-time session busy gets a session
    /// of its own ([`Lease`]).
    opts: SshOptions,
    /// The server runs one command per session at a time
    /// ([`server_id::runs_one_command_at_a_time`]: some Dropbear releases).
    one_at_a_time: bool,
    /// A command holds this one-at-a-time session ([`Lease`]).
    occupied: AtomicBool,
    /// Logins of its own in progress for commands that found it busy: Dropbear resets a
    /// sixth unauthenticated connection from one address (MAX_UNAUTH_PER_IP 5).
    side_logins: tokio::sync::Semaphore,
}

impl Connection {
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// Why the session ended, once it has (None while it is up).
    pub fn lost(&self) -> Option<String> {
        if !self.is_closed() {
            return None;
        }
        let why = self.ended.lock().ok().and_then(|w| w.clone());
        Some(why.unwrap_or_else(|| "the connection closed".into()))
    }

    /// The error for a command whose channel ended without an exit status: the session's loss
    /// when that is why, else None (the command died of a signal).
    fn cut_short(&self) -> Option<SshError> {
        self.lost()
            .map(|why| SshError::Connect(format!("connection lost: {why}")))
    }
}

fn client_config(hop: &Hop, recorded: &[Algorithm]) -> Arc<client::Config> {
    Arc::new(client::Config {
        keepalive_interval: Some(Duration::from_secs(hop.alive_interval)),
        keepalive_max: usize::try_from(hop.alive_count).unwrap_or(usize::MAX),
        nodelay: true,
        preferred: russh::Preferred {
            key: host_key_order(recorded).into(),
            ..russh::Preferred::DEFAULT
        },
        ..Default::default()
    })
}

/// russh's host key algorithms with the types known_hosts records for the host first (like
/// OpenSSH's order_hostkeyalgs): a host known by its RSA key then presents that key, not an
/// ed25519 key that would look changed.
fn host_key_order(recorded: &[Algorithm]) -> Vec<Algorithm> {
    let same_type = |a: &Algorithm, r: &Algorithm| match (a, r) {
        // Every RSA signature algorithm uses the one `ssh-rsa` key.
        (Algorithm::Rsa { .. }, Algorithm::Rsa { .. }) => true,
        _ => a == r,
    };
    let default = russh::Preferred::DEFAULT.key;
    let (mut first, rest): (Vec<Algorithm>, Vec<Algorithm>) = default
        .iter()
        .cloned()
        .partition(|a| recorded.iter().any(|r| same_type(a, r)));
    first.extend(rest);
    first
}

/// Connect and authenticate along `route`, within the connect timeout. A key that needs a
/// passphrase is asked for on the terminal (CLI) between attempts, outside the timeout, up to
/// [`auth::MAX_TRIES`] wrong answers; then the route is tried again.
pub async fn connect(route: &Route, opts: &SshOptions) -> Result<Connection, SshError> {
    let secs = opts.connect_timeout.as_secs().max(1);
    // Bounded even if answers keep coming: each attempt uses up a stored passphrase.
    for _ in 0..16 {
        let attempt = tokio::time::timeout(opts.connect_timeout, connect_inner(route, opts))
            .await
            .map_err(|_| SshError::Timeout(secs))?;
        match attempt {
            Err(SshError::PassphraseNeeded { key }) => match auth::prompt(&key).await {
                auth::Asked::Answered => continue,
                auth::Asked::NoTerminal => return Err(SshError::PassphraseNeeded { key }),
                auth::Asked::GaveUp(tries) => return Err(SshError::BadPassphrase { key, tries }),
            },
            other => return other,
        }
    }
    Err(SshError::Connect("too many passphrase attempts".into()))
}

/// TCP keepalive on the first hop's socket, as ssh's TCPKeepAlive: the kernel notices a peer
/// that is gone (power cut, cable pulled) even while the SSH layer is idle.
fn tcp_keepalive(sock: &tokio::net::TcpStream, hop: &Hop) {
    let every = Duration::from_secs(hop.alive_interval);
    let ka = socket2::TcpKeepalive::new()
        .with_time(every)
        .with_interval(every)
        .with_retries(hop.alive_count);
    if let Err(e) = socket2::SockRef::from(sock).set_tcp_keepalive(&ka) {
        tracing::debug!("TCP keepalive on {}:{}: {e}", hop.host, hop.port);
    }
}

async fn connect_inner(route: &Route, opts: &SshOptions) -> Result<Connection, SshError> {
    let mut prev: Option<Arc<Connection>> = None;
    let mut chain: Vec<Arc<Connection>> = Vec::new();
    let mut server_ids = Vec::new();
    let n = route.hops.len();
    for (i, hop) in route.hops.iter().enumerate() {
        let verdict: Verdict = Default::default();
        let ended: Ended = Default::default();
        let handler = Client {
            hop: hop.clone(),
            verdict: verdict.clone(),
            ended: ended.clone(),
        };
        let recorded = known_hosts::recorded_algorithms(&hop.known_hosts, &hop.key_name, hop.port);
        let cfg = client_config(hop, &recorded);
        let res = match &prev {
            None => {
                let sock = tokio::net::TcpStream::connect((hop.host.as_str(), hop.port))
                    .await
                    .map_err(|e| {
                        SshError::Connect(format!("connect to {}:{}: {e}", hop.host, hop.port))
                    })?;
                let _ = sock.set_nodelay(true);
                tcp_keepalive(&sock, hop);
                let (sock, id) = SniffId::new(sock);
                server_ids.push(id);
                client::connect_stream(cfg, sock, handler).await
            }
            Some(jump) => {
                let ch = jump
                    .handle
                    .channel_open_direct_tcpip(
                        hop.host.clone(),
                        u32::from(hop.port),
                        "127.0.0.1",
                        0,
                    )
                    .await
                    .map_err(|e| {
                        SshError::Connect(format!(
                            "jump {} cannot reach {}:{}: {e}",
                            jump.route.dest().host,
                            hop.host,
                            hop.port
                        ))
                    })?;
                let (stream, id) = SniffId::new(ch.into_stream());
                server_ids.push(id);
                client::connect_stream(cfg, stream, handler).await
            }
        };
        let mut handle = match res {
            Ok(h) => h,
            Err(e) => {
                return Err(host_key_error(hop, &verdict).unwrap_or_else(|| {
                    SshError::Connect(format!("ssh to {}:{}: {e}", hop.host, hop.port))
                }));
            }
        };
        auth::authenticate(&mut handle, hop, opts).await?;
        let sub_route = Route {
            hops: route.hops[..=i].to_vec(),
        };
        let server = server_ids
            .last()
            .and_then(|id| id.get())
            .map_or("", String::as_str);
        let one_at_a_time = server_id::runs_one_command_at_a_time(server);
        tracing::debug!(host = %hop.host, port = hop.port, server, one_at_a_time, "ssh session");
        let conn = Connection {
            handle,
            _jumps: chain.clone(),
            route: sub_route,
            ended,
            step: opts.connect_timeout,
            opts: opts.clone(),
            one_at_a_time,
            occupied: AtomicBool::new(false),
            side_logins: tokio::sync::Semaphore::new(SIDE_LOGINS),
        };
        if i + 1 == n {
            return Ok(conn);
        }
        let conn = Arc::new(conn);
        chain.push(conn.clone());
        prev = Some(conn);
    }
    Err(SshError::Connect("empty route".into()))
}

fn host_key_error(hop: &Hop, verdict: &Verdict) -> Option<SshError> {
    let (status, key) = verdict.lock().ok()?.clone()?;
    let host = known_hosts::host_port(&hop.key_name, hop.port);
    let fingerprint = known_hosts::fingerprint(&key);
    Some(match status {
        HostKeyStatus::Known => return None,
        HostKeyStatus::Unknown => SshError::UnknownHostKey {
            host,
            port: hop.port,
            fingerprint,
            key: Box::new(key),
        },
        HostKeyStatus::Changed { file, line } => SshError::ChangedHostKey {
            host,
            fingerprint,
            file: file.display().to_string(),
            line,
        },
        HostKeyStatus::Revoked { file, line } => SshError::RevokedHostKey {
            host,
            fingerprint,
            file: file.display().to_string(),
            line,
        },
        HostKeyStatus::Unreadable(e) => SshError::KnownHostsUnreadable {
            host,
            error: e.to_string(),
        },
    })
}

/// The session a command runs on. Most servers run any number of commands on one session at
/// once: the lease is the connection itself. A one-at-a-time server
/// ([`server_id::runs_one_command_at_a_time`]) runs one: a command takes the connection
/// when no other command holds it, else logs in on a session of its own, closed with it;
/// what lives as long as the operator wants (a followed log, a shell) always has its own, so
/// the facts refreshes keep the cached session. The
/// connection is free again only once the command's channel ended, the server's close
/// following its process's exit; a command abandoned before then (its future dropped) leaves
/// it taken, so later commands log in on their own rather than race a process that may
/// still exit.
struct Lease {
    conn: Arc<Connection>,
    /// `conn` is a one-at-a-time connection this lease took.
    holds: bool,
    ended: AtomicBool,
}

/// At most this many logins at once for commands that found a one-at-a-time session busy.
const SIDE_LOGINS: usize = 2;

impl Lease {
    /// For a command that ends by itself.
    async fn take(conn: &Arc<Connection>) -> Result<Lease, SshError> {
        Self::lease(conn, false).await
    }

    /// For a command that runs until the operator stops it.
    async fn take_long(conn: &Arc<Connection>) -> Result<Lease, SshError> {
        Self::lease(conn, true).await
    }

    async fn lease(conn: &Arc<Connection>, long: bool) -> Result<Lease, SshError> {
        let free = |c: &Connection| {
            c.occupied
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        };
        let (conn, holds) = if !conn.one_at_a_time {
            (conn.clone(), false)
        } else if !long && free(conn) {
            (conn.clone(), true)
        } else {
            let _turn = conn.side_logins.acquire().await;
            tracing::debug!(host = %conn.route.dest().host, "a login of its own for a command");
            (Arc::new(connect(&conn.route, &conn.opts).await?), false)
        };
        Ok(Lease {
            conn,
            holds,
            ended: AtomicBool::new(false),
        })
    }

    /// The command's channel ended (its process is gone).
    fn ended(&self) {
        self.ended.store(true, Ordering::Release);
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.holds && self.ended.load(Ordering::Acquire) {
            self.conn.occupied.store(false, Ordering::Release);
        }
    }
}

/// A session channel running `cmd` (no PTY), and the messages that arrived before the server
/// confirmed the command started. Opening the channel and the start are each bounded by the
/// connection's step timeout: a device that froze answers neither.
async fn open_exec(
    conn: &Connection,
    cmd: &str,
) -> Result<(russh::Channel<client::Msg>, Vec<ChannelMsg>), SshError> {
    let mut ch = open_session(conn).await?;
    ch.exec(true, cmd)
        .await
        .map_err(|e| SshError::Connect(format!("exec: {e}")))?;
    let (accepted, early) = replies(conn, &mut ch, 1).await?;
    if accepted != [true] {
        return Err(SshError::Connect(
            "the server refused to run the command".into(),
        ));
    }
    Ok((ch, early))
}

/// A new session channel, bounded by the connection's step timeout.
async fn open_session(conn: &Connection) -> Result<russh::Channel<client::Msg>, SshError> {
    let secs = conn.step.as_secs().max(1);
    tokio::time::timeout(conn.step, conn.handle.channel_open_session())
        .await
        .map_err(|_| SshError::Connect(format!("opening a channel: no answer within {secs}s")))?
        .map_err(|e| SshError::Connect(format!("open channel: {e}")))
}

/// The server's answers to the last `n` requests sent on `ch` (in order: true accepted), and
/// the messages that arrived before them. Bounded by the connection's step timeout.
async fn replies(
    conn: &Connection,
    ch: &mut russh::Channel<client::Msg>,
    n: usize,
) -> Result<(Vec<bool>, Vec<ChannelMsg>), SshError> {
    let mut accepted = Vec::with_capacity(n);
    let mut early = Vec::new();
    let answered = tokio::time::timeout(conn.step, async {
        while accepted.len() < n {
            match ch.wait().await {
                Some(ChannelMsg::Success) => accepted.push(true),
                Some(ChannelMsg::Failure) => accepted.push(false),
                Some(other) => early.push(other),
                None => {
                    return Err(conn.cut_short().unwrap_or_else(|| {
                        SshError::Connect("the channel closed before the command started".into())
                    }));
                }
            }
        }
        Ok(())
    })
    .await;
    match answered {
        Ok(Ok(())) => Ok((accepted, early)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(SshError::Connect(format!(
            "starting the command: no answer within {}s",
            conn.step.as_secs().max(1)
        ))),
    }
}

/// Output of a command run without a PTY.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecOutput {
    /// None when the command died of a signal.
    pub code: Option<u32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// A `direct-tcpip` channel to `host:port` as the device sees it (`ssh -L`), as a byte
/// stream: port forwards (#15) ride the device's existing session, no new login. A server
/// that refuses (nothing listens there, `AllowTcpForwarding no`) answers with an open failure.
pub async fn direct_tcpip(
    conn: &Connection,
    host: &str,
    port: u16,
) -> Result<russh::ChannelStream<client::Msg>, SshError> {
    let secs = conn.step.as_secs().max(1);
    let ch = tokio::time::timeout(
        conn.step,
        conn.handle
            .channel_open_direct_tcpip(host, u32::from(port), "127.0.0.1", 0),
    )
    .await
    .map_err(|_| SshError::Connect(format!("opening a channel: no answer within {secs}s")))?
    .map_err(|e| SshError::Connect(format!("{host}:{port} on {}: {e}", conn.route.dest().host)))?;
    Ok(ch.into_stream())
}

/// Run `cmd` (a shell command line), collecting at most `limit` bytes of each stream.
pub async fn exec(conn: &Arc<Connection>, cmd: &str, limit: usize) -> Result<ExecOutput, SshError> {
    let lease = Lease::take(conn).await?;
    let conn = &*lease.conn;
    let (mut ch, early) = open_exec(conn, cmd).await?;
    let mut out = ExecOutput::default();
    let take = |msg: ChannelMsg, out: &mut ExecOutput| match msg {
        ChannelMsg::Data { data } => push_limited(&mut out.stdout, &data, limit),
        ChannelMsg::ExtendedData { data, .. } => push_limited(&mut out.stderr, &data, limit),
        ChannelMsg::ExitStatus { exit_status } => out.code = Some(exit_status),
        _ => {}
    };
    for msg in early {
        take(msg, &mut out);
    }
    while let Some(msg) = ch.wait().await {
        take(msg, &mut out);
    }
    ended(conn, out.code)?;
    lease.ended();
    Ok(out)
}

/// A channel ended: an error when the session was lost before the exit status came.
fn ended(conn: &Connection, code: Option<u32>) -> Result<(), SshError> {
    match (code, conn.cut_short()) {
        (None, Some(e)) => Err(e),
        _ => Ok(()),
    }
}

fn push_limited(buf: &mut Vec<u8>, data: &[u8], limit: usize) {
    let room = limit.saturating_sub(buf.len());
    buf.extend_from_slice(&data[..data.len().min(room)]);
}

/// Run `cmd`, handing its stdout+stderr bytes to `on_data` as they arrive (an updater's
/// progress); returns the exit status (None: killed by a signal). A session lost on the way
/// (a frozen device: no answer to keepalives) is an error.
pub async fn exec_each(
    conn: &Arc<Connection>,
    cmd: &str,
    on_data: &mut (dyn FnMut(&[u8]) + Send),
) -> Result<Option<u32>, SshError> {
    let lease = Lease::take(conn).await?;
    let conn = &*lease.conn;
    let (mut ch, early) = open_exec(conn, cmd).await?;
    let mut code = None;
    let mut take = |msg: ChannelMsg, code: &mut Option<u32>| match msg {
        ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. } => on_data(&data),
        ChannelMsg::ExitStatus { exit_status } => *code = Some(exit_status),
        _ => {}
    };
    for msg in early {
        take(msg, &mut code);
    }
    while let Some(msg) = ch.wait().await {
        take(msg, &mut code);
    }
    ended(conn, code)?;
    lease.ended();
    Ok(code)
}

/// Run `cmd` with `input` as its stdin (an upload: `cat > file`), calling `sent` with the
/// bytes written so far; returns the exit status and the command's output.
pub async fn exec_with_input(
    conn: &Arc<Connection>,
    cmd: &str,
    mut input: impl tokio::io::AsyncRead + Unpin + Send,
    sent: &mut (dyn FnMut(u64) + Send),
) -> Result<(Option<u32>, String), SshError> {
    use tokio::io::AsyncReadExt;
    let err = |what: &str, e: &dyn std::fmt::Display| SshError::Connect(format!("{what}: {e}"));
    let lease = Lease::take(conn).await?;
    let conn = &*lease.conn;
    let (ch, early) = open_exec(conn, cmd).await?;
    let (mut read, write) = ch.split();
    // The reader runs beside the writer: a command that fails early must not leave us
    // blocked on a full window.
    let reader = tokio::spawn(async move {
        let mut code = None;
        let mut out = Vec::new();
        let mut take = |msg: ChannelMsg| match msg {
            ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. } => {
                push_limited(&mut out, &data, 16 * 1024)
            }
            ChannelMsg::ExitStatus { exit_status } => code = Some(exit_status),
            _ => {}
        };
        for msg in early {
            take(msg);
        }
        while let Some(msg) = read.wait().await {
            take(msg);
        }
        (code, String::from_utf8_lossy(&out).into_owned())
    });
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    let write_result: Result<(), SshError> = async {
        loop {
            let n = input.read(&mut buf).await.map_err(|e| err("read", &e))?;
            if n == 0 {
                break;
            }
            write.data(&buf[..n]).await.map_err(|e| err("upload", &e))?;
            total += n as u64;
            sent(total);
        }
        write.eof().await.map_err(|e| err("upload", &e))
    }
    .await;
    let (code, out) = reader.await.map_err(|e| err("upload", &e))?;
    // The reader ran until the channel ended.
    lease.ended();
    write_result?;
    ended(conn, code)?;
    Ok((code, out))
}

/// Start `cmd` and stream its stdout+stderr bytes (logs). Ends when the command exits or the
/// session is lost ([`Connection::lost`] then says why).
pub async fn exec_stream(
    conn: Arc<Connection>,
    cmd: &str,
) -> Result<mpsc::Receiver<Vec<u8>>, SshError> {
    let lease = Lease::take_long(&conn).await?;
    let (mut ch, early) = open_exec(&lease.conn, cmd).await?;
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        // Its own session on a one-at-a-time server, kept while the stream runs.
        let _keep = lease;
        for msg in early {
            if let ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. } = msg
                && tx.send(data.to_vec()).await.is_err()
            {
                return;
            }
        }
        loop {
            tokio::select! {
                msg = ch.wait() => match msg {
                    Some(ChannelMsg::Data { data }) | Some(ChannelMsg::ExtendedData { data, .. }) => {
                        if tx.send(data.to_vec()).await.is_err() {
                            break;
                        }
                    }
                    Some(_) => {}
                    None => break,
                },
                _ = tx.closed() => break,
            }
        }
        let _ = ch.close().await;
    });
    Ok(rx)
}

/// An interactive PTY: a login shell, or `command` run with a PTY.
pub async fn shell(
    conn: Arc<Connection>,
    command: Option<&str>,
    cols: u16,
    rows: u16,
) -> Result<ShellSession, SshError> {
    let err = |what: &str, e: russh::Error| SshError::Connect(format!("{what}: {e}"));
    // Its own session on a one-at-a-time server ([`Lease`]), kept by the output stream.
    let lease = Lease::take_long(&conn).await?;
    let conn = lease.conn.clone();
    let mut ch = open_session(&conn).await?;
    let term = std::env::var("TERM").unwrap_or_else(|_| "xterm-256color".into());
    ch.request_pty(true, &term, u32::from(cols), u32::from(rows), 0, 0, &[])
        .await
        .map_err(|e| err("pty", e))?;
    match command {
        Some(c) => ch.exec(true, c).await.map_err(|e| err("exec", e))?,
        None => ch.request_shell(true).await.map_err(|e| err("shell", e))?,
    }
    let (accepted, early) = replies(&conn, &mut ch, 2).await?;
    if !accepted[0] {
        // What `ssh` does too: say so and go on without one (the shell still runs).
        tracing::warn!(device = %conn.route.dest().host, "the server refused a terminal (PTY)");
    }
    if !accepted[1] {
        return Err(SshError::Connect(
            "the server refused to start the shell".into(),
        ));
    }
    let early: Vec<Vec<u8>> = early
        .into_iter()
        .filter_map(|m| match m {
            ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. } => {
                Some(data.to_vec())
            }
            _ => None,
        })
        .collect();
    let (read, write) = ch.split();
    let input = write.make_writer();
    let (resize, mut resize_rx) = mpsc::unbounded_channel::<(u16, u16)>();
    tokio::spawn(async move {
        while let Some((c, r)) = resize_rx.recv().await {
            if write
                .window_change(u32::from(c), u32::from(r), 0, 0)
                .await
                .is_err()
            {
                break;
            }
        }
    });
    let early = futures::stream::iter(early.into_iter().map(Ok));
    let output = futures::stream::unfold((read, lease), |(mut read, lease)| async move {
        loop {
            match read.wait().await? {
                ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. } => {
                    return Some((Ok(data.to_vec()), (read, lease)));
                }
                _ => continue,
            }
        }
    });
    let output = early.chain(output).boxed();
    Ok(ShellSession {
        output,
        input: Box::pin(input),
        resize,
    })
}
