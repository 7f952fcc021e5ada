//! Walking an error's `source()` chain, for every backend's human texts: the useful fact
//! ("connection refused", "invalid peer certificate") usually sits several causes below the
//! client's own `Display` ("error trying to connect").

use std::error::Error;

/// `e` and every cause below it, outermost first.
pub fn chain<'a>(e: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(e), |cur: &&'a (dyn Error + 'static)| (*cur).source())
}

/// The innermost cause of `e` (`e` itself when it has none): where the specific reason lives.
pub fn root_cause<'a>(e: &'a (dyn Error + 'static)) -> &'a (dyn Error + 'static) {
    chain(e).last().unwrap_or(e)
}

/// The innermost cause's text.
pub fn root_cause_text(e: &(dyn Error + 'static)) -> String {
    root_cause(e).to_string()
}

/// Every level's text joined with ": " ("client error (Connect): tcp connect error:
/// Connection refused"), for errors whose outer levels say what was being done.
pub fn chain_text(e: &(dyn Error + 'static)) -> String {
    chain(e)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

/// The deepest error of type `T` in `e`'s chain.
pub fn deepest<'a, T: Error + 'static>(e: &'a (dyn Error + 'static)) -> Option<&'a T> {
    chain(e).filter_map(|c| c.downcast_ref::<T>()).last()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn walks_the_chain() {
        let e = Outer(std::io::Error::other("refused"));
        assert_eq!(chain(&e).count(), 2);
        assert_eq!(root_cause_text(&e), "refused");
        assert_eq!(chain_text(&e), "outer: refused");
        assert_eq!(
            deepest::<std::io::Error>(&e).map(ToString::to_string),
            Some("refused".into())
        );
        let alone = std::io::Error::other("alone");
        assert_eq!(root_cause_text(&alone), "alone");
        assert!(deepest::<std::fmt::Error>(&alone).is_none());
    }
}
