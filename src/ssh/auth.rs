//! Authentication like OpenSSH: ssh-agent keys first (SSH_AUTH_SOCK), then identity files
//! (IdentityFile, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa). Encrypted keys take their
//! passphrase from a process-wide store filled by the console's dialog or the CLI's tty prompt
//! ([`prompt`], asked between connection attempts, never while one is timed).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use russh::client::{AuthResult, Handle};
use russh::keys::PrivateKeyWithHashAlg;

use super::client::{Client, Hop, SshError, SshOptions};

/// Passphrases given for encrypted keys, by key path. Wrong ones are dropped and counted so the
/// console asks again.
#[derive(Default)]
pub struct Passphrases {
    known: Mutex<HashMap<PathBuf, String>>,
    /// How many passphrases were tried and failed per key (part of "passphrase needed").
    failures: Mutex<HashMap<PathBuf, u32>>,
    changed: OnceLock<tokio::sync::watch::Sender<u64>>,
    tty: std::sync::atomic::AtomicBool,
    tty_lock: Mutex<()>,
}

impl Passphrases {
    fn changed(&self) -> &tokio::sync::watch::Sender<u64> {
        self.changed
            .get_or_init(|| tokio::sync::watch::channel(0).0)
    }

    /// Store a passphrase; waiting connections retry at once.
    pub fn provide(&self, key: &Path, passphrase: String) {
        if let Ok(mut m) = self.known.lock() {
            m.insert(key.to_path_buf(), passphrase);
        }
        self.changed().send_modify(|n| *n += 1);
    }

    pub fn get(&self, key: &Path) -> Option<String> {
        self.known.lock().ok()?.get(key).cloned()
    }

    fn wrong(&self, key: &Path) {
        if let Ok(mut m) = self.known.lock() {
            m.remove(key);
        }
        if let Ok(mut f) = self.failures.lock() {
            *f.entry(key.to_path_buf()).or_default() += 1;
        }
    }

    pub fn failures(&self, key: &Path) -> u32 {
        self.failures
            .lock()
            .ok()
            .and_then(|f| f.get(key).copied())
            .unwrap_or(0)
    }

    /// Fires whenever a passphrase is provided.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed().subscribe()
    }

    /// CLI mode: ask on the controlling terminal when a key needs a passphrase.
    pub fn enable_tty_prompt(&self) {
        self.tty.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Ask for `key`'s passphrase on the terminal (blocking: run it on a blocking thread, and
    /// outside any connect timeout, since a person answers). A second device waiting for the
    /// same key reuses the answer given meanwhile.
    fn ask_tty(&self, key: &Path) -> Asked {
        if !self.tty.load(std::sync::atomic::Ordering::Relaxed) {
            return Asked::NoTerminal;
        }
        // One prompt at a time.
        let Ok(_g) = self.tty_lock.lock() else {
            return Asked::NoTerminal;
        };
        if self.get(key).is_some() {
            return Asked::Answered;
        }
        let tries = self.failures(key);
        if tries >= MAX_TRIES {
            return Asked::GaveUp(tries);
        }
        match read_tty_secret(&format!("Enter passphrase for key '{}': ", key.display())) {
            Some(p) => {
                self.provide(key, p);
                Asked::Answered
            }
            None => Asked::NoTerminal,
        }
    }
}

/// Wrong passphrases accepted per key before the CLI stops asking (ssh asks 3 times).
pub const MAX_TRIES: u32 = 3;

/// The outcome of a terminal prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// A passphrase is stored: connect again.
    Answered,
    /// Not the CLI, or no terminal (or it was closed): the key stays locked.
    NoTerminal,
    /// This many wrong answers already.
    GaveUp(u32),
}

/// Ask for `key`'s passphrase on the terminal from async code: the read blocks, so it runs on
/// a blocking thread, never on a runtime worker.
pub async fn prompt(key: &Path) -> Asked {
    if !passphrases().tty.load(std::sync::atomic::Ordering::Relaxed) {
        // The console: its dialog provides the passphrase.
        return Asked::NoTerminal;
    }
    let key = key.to_path_buf();
    tokio::task::spawn_blocking(move || passphrases().ask_tty(&key))
        .await
        .unwrap_or(Asked::NoTerminal)
}

pub fn passphrases() -> &'static Passphrases {
    static P: OnceLock<Passphrases> = OnceLock::new();
    P.get_or_init(Passphrases::default)
}

/// Read a line from /dev/tty with echo off.
pub fn read_tty_secret(prompt: &str) -> Option<String> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    use std::io::{BufRead, Write};
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()?;
    let old = tcgetattr(&tty).ok();
    if let Some(old) = &old {
        let mut t = old.clone();
        t.local_modes.remove(LocalModes::ECHO);
        t.local_modes.insert(LocalModes::ECHONL);
        let _ = tcsetattr(&tty, OptionalActions::Now, &t);
    }
    let mut w = &tty;
    let _ = w.write_all(prompt.as_bytes());
    let _ = w.flush();
    let mut line = String::new();
    let r = std::io::BufReader::new(&tty).read_line(&mut line);
    if let Some(old) = &old {
        let _ = tcsetattr(&tty, OptionalActions::Now, old);
    }
    r.ok()?;
    Some(line.trim_end_matches(['\n', '\r']).to_string())
}

enum Loaded {
    Key(PrivateKeyWithHashAlg),
    Missing,
    NeedsPassphrase,
    Bad(String),
}

/// Keys already loaded (and decrypted), by path and modification time: a fleet of 100
/// devices sharing one encrypted key runs its KDF once, not 100 times.
type KeyCache = Mutex<HashMap<PathBuf, (std::time::SystemTime, Arc<russh::keys::PrivateKey>)>>;

fn key_cache() -> &'static KeyCache {
    static C: OnceLock<KeyCache> = OnceLock::new();
    C.get_or_init(Default::default)
}

fn load(path: &Path, rsa_hash: Option<russh::keys::HashAlg>) -> Loaded {
    let Ok(mtime) = std::fs::metadata(path).and_then(|m| m.modified()) else {
        return Loaded::Missing;
    };
    if let Some((t, k)) = key_cache().lock().ok().and_then(|c| c.get(path).cloned())
        && t == mtime
    {
        return Loaded::Key(PrivateKeyWithHashAlg::new(k, rsa_hash));
    }
    match load_uncached(path, rsa_hash) {
        Loaded::Key(k) => {
            let arc = Arc::new((*k).clone());
            if let Ok(mut c) = key_cache().lock() {
                c.insert(path.to_path_buf(), (mtime, arc.clone()));
            }
            Loaded::Key(PrivateKeyWithHashAlg::new(arc, rsa_hash))
        }
        other => other,
    }
}

fn load_uncached(path: &Path, rsa_hash: Option<russh::keys::HashAlg>) -> Loaded {
    let store = passphrases();
    // No prompt here: this runs inside the connect timeout. A locked key ends the attempt
    // with PassphraseNeeded; the caller asks (client::connect) and connects again.
    let pass = store.get(path);
    match russh::keys::load_secret_key(path, pass.as_deref()) {
        Ok(k) => Loaded::Key(PrivateKeyWithHashAlg::new(Arc::new(k), rsa_hash)),
        Err(russh::keys::Error::KeyIsEncrypted) if pass.is_none() => Loaded::NeedsPassphrase,
        Err(e) if pass.is_some() => {
            tracing::info!("{}: wrong passphrase? {e}", path.display());
            store.wrong(path);
            Loaded::NeedsPassphrase
        }
        Err(e) => Loaded::Bad(e.to_string()),
    }
}

pub(crate) async fn authenticate(
    handle: &mut Handle<Client>,
    hop: &Hop,
    opts: &SshOptions,
) -> Result<(), SshError> {
    let user = hop.user.clone();
    let mut tried: Vec<String> = Vec::new();
    let rsa_hash = handle
        .best_supported_rsa_hash()
        .await
        .ok()
        .flatten()
        .flatten();

    if let Some(sock) = opts.agent.as_ref().filter(|_| !hop.identities_only) {
        match russh::keys::agent::client::AgentClient::connect_uds(sock).await {
            Ok(mut agent) => {
                let ids = agent.request_identities().await.unwrap_or_default();
                for id in ids {
                    let russh::keys::agent::AgentIdentity::PublicKey { key, .. } = id else {
                        continue;
                    };
                    let hash = if key.algorithm().is_rsa() {
                        rsa_hash
                    } else {
                        None
                    };
                    match handle
                        .authenticate_publickey_with(&user, key.clone(), hash, &mut agent)
                        .await
                    {
                        Ok(AuthResult::Success) => return Ok(()),
                        Ok(_) => tried.push(format!("agent {}", key.algorithm())),
                        Err(e) => tried.push(format!("agent: {e}")),
                    }
                }
            }
            Err(e) => tracing::debug!("ssh-agent: {e}"),
        }
    }

    let mut files = hop.identity_files.clone();
    if files.is_empty() {
        files = ["id_ed25519", "id_ecdsa", "id_rsa"]
            .iter()
            .map(|f| opts.home.join(".ssh").join(f))
            .collect();
    }
    let mut needs: Option<PathBuf> = None;
    for f in &files {
        match load(f, rsa_hash) {
            Loaded::Missing => {}
            Loaded::NeedsPassphrase => {
                needs.get_or_insert_with(|| f.clone());
            }
            Loaded::Bad(e) => tried.push(format!("{}: {e}", f.display())),
            Loaded::Key(k) => match handle.authenticate_publickey(&user, k).await {
                Ok(AuthResult::Success) => return Ok(()),
                Ok(_) => tried.push(f.display().to_string()),
                Err(e) => tried.push(format!("{}: {e}", f.display())),
            },
        }
    }
    if let Some(key) = needs {
        return Err(SshError::PassphraseNeeded { key });
    }
    Err(SshError::AuthFailed {
        user,
        host: hop.host.clone(),
        tried: if tried.is_empty() {
            "no keys".into()
        } else {
            tried.join(", ")
        },
    })
}
