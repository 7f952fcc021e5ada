//! Mender errors as the operator reads them. Transport and server errors say themselves
//! ([`ApiError`], [`FetchError`] name the endpoint and page); what only the operator can fix
//! (no token, a wrong one, no right to a list) is said with where to fix it.

use super::Inner;
use super::client::ApiError;
use super::paging::FetchError;

impl Inner {
    /// What the view shows for an error that is not a connection problem.
    pub(super) fn unavailable_text(&self, e: &ApiError) -> Option<String> {
        match e {
            ApiError::NoToken => Some(format!(
                "no token: set ${} to a Mender personal access token",
                self.token_env
            )),
            ApiError::Unauthorized => Some(format!(
                "unauthorized: check the token in ${}",
                self.token_env
            )),
            ApiError::Forbidden(m) if m.is_empty() => Some("forbidden".into()),
            ApiError::Forbidden(m) => Some(format!("forbidden: {m}")),
            _ => None,
        }
    }

    /// One line for an error of a one-shot call.
    pub(super) fn describe_error(&self, e: ApiError) -> String {
        self.unavailable_text(&e).unwrap_or_else(|| e.to_string())
    }

    /// One line for a list that could not be read to its end.
    pub(super) fn describe_fetch_error(&self, e: FetchError) -> String {
        match self.unavailable_text(&e.cause) {
            Some(text) => text,
            None => e.to_string(),
        }
    }
}
