//! SSH like OpenSSH, on russh: `~/.ssh/config` (Host patterns, HostName, User, Port,
//! IdentityFile, ProxyJump, ServerAliveInterval/CountMax), strict host keys against known_hosts
//! (hashed entries, `[host]:port`, patterns, `@revoked`), ssh-agent then identity files, exec
//! and PTY shells, keepalives on every session.

pub mod auth;
pub mod client;
pub mod config;
pub mod files;
pub mod known_hosts;
pub mod server_id;

pub use client::{Connection, ExecOutput, Route, SshError, SshOptions, Target};
