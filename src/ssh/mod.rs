//! SSH like OpenSSH, on russh: `~/.ssh/config` (Host patterns, HostName, User, Port,
//! IdentityFile, ProxyJump, ServerAliveInterval), strict host keys against known_hosts (hashed
//! entries, `[host]:port`, patterns), ssh-agent then identity files, exec and PTY shells.

pub mod auth;
pub mod client;
pub mod config;
pub mod known_hosts;

pub use client::{Connection, ExecOutput, Route, SshError, SshOptions, Target};
