//! Turn bollard errors into sentences a person can act on.
//!
//! bollard's `Display` for transport failures is "Error in the hyper legacy client: client
//! error (Connect)", which hides the one useful fact (the OS error) several `source()`s deep.
//! Everything shown in the header or a toast comes through here, never a Debug dump.

use std::error::Error as StdError;

use bollard::errors::Error as BollardError;

use super::connect::Endpoint;
use crate::backend::error::{deepest, root_cause_text};
use crate::term::sanitize::sanitize_plain;

/// "Connection refused (os error 111)" → "Connection refused".
pub fn io_error_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// `IOError` is `#[error(transparent)]`, so the io::Error itself is not in the source chain.
fn direct_io_error(e: &BollardError) -> Option<&std::io::Error> {
    match e {
        BollardError::IOError { err } => Some(err),
        _ => None,
    }
}

/// True when the failure is about reaching the engine (so a watch should reconnect), as opposed
/// to the engine answering with an error (no such container, conflict...).
pub fn is_transport_error(e: &BollardError) -> bool {
    !matches!(
        e,
        BollardError::DockerResponseServerError { .. }
            | BollardError::DockerStreamError { .. }
            | BollardError::DockerContainerWaitError { .. }
            | BollardError::JsonDataError { .. }
            | BollardError::JsonSerdeError { .. }
    )
}

/// True when the engine said "404": the object is gone.
pub fn is_not_found(e: &BollardError) -> bool {
    matches!(
        e,
        BollardError::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// A human sentence for `e`, naming the endpoint when the engine could not be reached.
pub fn human_error(endpoint: &Endpoint, e: &BollardError) -> String {
    // An answer over its size cap (`super::capped`): say what was too large, and where.
    if let Some(t) = crate::backend::too_large::TooLarge::find(e) {
        return sanitize_plain(&format!(
            "{} of Docker at {endpoint} ({}) is larger than {} MiB: stopped reading",
            t.what,
            t.path,
            t.limit / (1024 * 1024)
        ));
    }
    let text = match e {
        BollardError::SocketNotFoundError(_) => {
            format!("cannot reach Docker at {endpoint}: No such file or directory")
        }
        BollardError::RequestTimeoutError => format!("Docker at {endpoint} did not answer in time"),
        BollardError::DockerResponseServerError {
            message,
            status_code,
        } => {
            let msg = message.trim();
            if msg.is_empty() {
                format!("Docker answered HTTP {status_code}")
            } else {
                msg.to_owned()
            }
        }
        BollardError::DockerStreamError { error } => error.clone(),
        BollardError::APIVersionParseError {} => {
            format!("Docker at {endpoint} reported an API version fleetdeck cannot read")
        }
        BollardError::UnsupportedURISchemeError { uri } => format!("unsupported Docker host {uri}"),
        BollardError::JsonDataError { message, .. } => {
            format!("{endpoint} did not answer like a Docker engine ({message})")
        }
        _ => match direct_io_error(e).or_else(|| deepest::<std::io::Error>(e)) {
            Some(io) => {
                let mut s = format!("cannot reach Docker at {endpoint}: {}", io_error_text(io));
                if io.kind() == std::io::ErrorKind::PermissionDenied
                    && matches!(endpoint, Endpoint::Unix(_))
                {
                    s.push_str(" (is your user in the docker group?)");
                }
                if matches!(endpoint, Endpoint::Ssh { .. }) {
                    s.push_str(" (ssh:// needs the remote docker CLI; use an ssh_config alias for non-22 ports)");
                }
                s
            }
            None => match e.source() {
                // Show the innermost cause: it is the specific one ("invalid peer certificate").
                Some(_) => format!("cannot reach Docker at {endpoint}: {}", root_cause_text(e)),
                None => format!("Docker at {endpoint}: {e}"),
            },
        },
    };
    sanitize_plain(&text)
}

/// For results of operations on one object: the engine's own message is the best text.
pub fn op_error(endpoint: &Endpoint, e: &BollardError) -> anyhow::Error {
    anyhow::anyhow!(human_error(endpoint, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_socket_reads_like_a_sentence() {
        let ep = Endpoint::Unix("/var/run/docker.sock".into());
        let e = BollardError::SocketNotFoundError("/var/run/docker.sock".into());
        assert_eq!(
            human_error(&ep, &e),
            "cannot reach Docker at unix:///var/run/docker.sock: No such file or directory"
        );
    }

    #[test]
    fn os_error_numbers_are_dropped() {
        let io = std::io::Error::from_raw_os_error(111);
        assert_eq!(io_error_text(&io), "Connection refused");
        let ep = Endpoint::Http {
            addr: "127.0.0.1:1".into(),
        };
        let e = BollardError::IOError { err: io };
        assert_eq!(
            human_error(&ep, &e),
            "cannot reach Docker at tcp://127.0.0.1:1: Connection refused"
        );
    }

    #[test]
    fn engine_messages_pass_through() {
        let ep = Endpoint::Unix("/s".into());
        let e = BollardError::DockerResponseServerError {
            status_code: 404,
            message: "No such container: x".into(),
        };
        assert_eq!(human_error(&ep, &e), "No such container: x");
        assert!(is_not_found(&e));
        assert!(!is_transport_error(&e));
    }
}
