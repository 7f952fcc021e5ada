//! How a device runs things: the one seam between the fleet backend and its transports.
//! Facts, logs, commands (`exec`, `:run`), the manual update steps and the rollouts' link all
//! call these methods, never `ssh::client` directly, so an SSH device and a `host: local`
//! device (the machine the console runs on) share every line above this file: the same
//! views, keys, state machine and audit.
//!
//! Why an enum and not a trait object: there are exactly two transports, the SSH arm must
//! stay exactly the calls it was before (its tests pin its behaviour), and a match keeps both
//! visible in one place. Errors stay [`SshError`] for both: a local failure is a
//! `SshError::Connect` whose text is all it shows.

use std::sync::Arc;

use tokio::io::AsyncRead;
use tokio::sync::mpsc;

use super::local;
use crate::ssh::Connection;
use crate::ssh::client::{self, ExecOutput, SshError};

/// A device's way of running commands, as [`super::Inner::session`] hands it out.
#[derive(Clone)]
pub enum Session {
    /// The device's cached SSH session.
    Ssh(Arc<Connection>),
    /// Processes on this machine, as the console's user.
    Local,
}

impl Session {
    /// Run `cmd` (a shell command line), keeping at most `limit` bytes of each stream.
    pub async fn exec(&self, cmd: &str, limit: usize) -> Result<ExecOutput, SshError> {
        match self {
            Session::Ssh(c) => client::exec(c, cmd, limit).await,
            Session::Local => local::exec(cmd, limit).await,
        }
    }

    /// Run `cmd`, handing its stdout+stderr bytes to `on_data` as they arrive; the exit
    /// status (None: killed by a signal).
    pub async fn exec_each(
        &self,
        cmd: &str,
        on_data: &mut (dyn FnMut(&[u8]) + Send),
    ) -> Result<Option<u32>, SshError> {
        match self {
            Session::Ssh(c) => client::exec_each(c, cmd, on_data).await,
            Session::Local => local::exec_each(cmd, on_data).await,
        }
    }

    /// Run `cmd` with `input` as its stdin, calling `sent` with the bytes written so far.
    pub async fn exec_with_input(
        &self,
        cmd: &str,
        input: impl AsyncRead + Unpin + Send,
        sent: &mut (dyn FnMut(u64) + Send),
    ) -> Result<(Option<u32>, String), SshError> {
        match self {
            Session::Ssh(c) => client::exec_with_input(c, cmd, input, sent).await,
            Session::Local => local::exec_with_input(cmd, input, sent).await,
        }
    }

    /// Start `cmd` and stream its output (logs) until it exits or the receiver is dropped.
    pub async fn exec_stream(&self, cmd: &str) -> Result<mpsc::Receiver<Vec<u8>>, SshError> {
        match self {
            Session::Ssh(c) => client::exec_stream(c.clone(), cmd).await,
            Session::Local => local::exec_stream(cmd),
        }
    }

    /// A TCP connection to `port` on the device's own loopback, for a port forward (#15):
    /// a `direct-tcpip` channel on the SSH session (`ssh -L`), or a plain connect for a
    /// local device.
    pub async fn open_tcp(&self, port: u16) -> Result<crate::backend::forward::Stream, SshError> {
        match self {
            Session::Ssh(c) => Ok(Box::new(client::direct_tcpip(c, "127.0.0.1", port).await?)),
            Session::Local => {
                let s = tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .map_err(|e| SshError::Connect(format!("127.0.0.1:{port}: {e}")))?;
                Ok(Box::new(s))
            }
        }
    }

    /// Why the session was lost, once it was (a local device never loses its "session").
    pub fn lost(&self) -> Option<String> {
        match self {
            Session::Ssh(c) => c.lost(),
            Session::Local => None,
        }
    }
}
