//! The error of an answer larger than its cap, shared by the transports that cap answers
//! (Kubernetes: `kube::limit`, Docker: `docker::capped`), and how to find it again in the
//! error chains the clients build around it.

/// An answer larger than its cap: reading stopped there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} of {path} is larger than {} MiB: stopped reading", limit / (1024 * 1024))]
pub struct TooLarge {
    /// "the answer" or "a watch event".
    pub what: &'static str,
    /// The request path, without the query.
    pub path: String,
    /// Bytes.
    pub limit: usize,
}

impl TooLarge {
    /// The `TooLarge` somewhere in `e`'s chain, looking inside I/O errors too: clients wrap
    /// body errors in one, and `io::Error::source` skips what it wraps.
    pub fn find<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a TooLarge> {
        super::error::chain(e).find_map(|err| {
            err.downcast_ref::<TooLarge>().or_else(|| {
                err.downcast_ref::<std::io::Error>()
                    .and_then(|io| io.get_ref())
                    .and_then(|inner| TooLarge::find(inner))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_through_io_errors_and_sources() {
        let t = TooLarge {
            what: "the answer",
            path: "/x".into(),
            limit: 64 * 1024 * 1024,
        };
        assert_eq!(
            t.to_string(),
            "the answer of /x is larger than 64 MiB: stopped reading"
        );
        let io = std::io::Error::other(t.clone());
        assert_eq!(TooLarge::find(&io), Some(&t));
        let nested = std::io::Error::other(std::io::Error::other(t.clone()));
        assert_eq!(TooLarge::find(&nested), Some(&t));
        assert_eq!(TooLarge::find(&std::io::Error::other("no")), None);
    }
}
