//! Browser sign-in: who a person is, by one of the configured providers. Each provider ends in
//! an [`Identity`] whose principal is the user entity ref a bearer token for that person carries
//! (`user:default/<name>`), so a signed-in browser and a token are the same caller.
//!
//! - [`oidc`]: OpenID Connect authorization code flow with PKCE against any standard provider
//!   (discovery, the token endpoint, the ID token checked against the provider's JWKS);
//! - [`github`]: GitHub OAuth, the person named by their login (`GET /user`), as Backstage's
//!   `usernameMatchingUserEntityName` resolver does;
//! - guest: a fixed `user:default/guest`, for local use only (see `ui.guest`).

pub mod github;
pub mod oidc;

use super::Principal;

/// The principal a guest sign-in stands for.
pub const GUEST: &str = "user:default/guest";

/// Who signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user entity ref a bearer token for this person carries.
    pub principal: Principal,
    /// A name to show: the provider's display name, else the user name.
    pub display_name: String,
}

/// Why a sign-in failed; the message is shown on the sign-in page and names no secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// The provider cannot be reached or answered something unusable.
    #[error("The sign-in provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused (a bad code, a refused client, the person said no).
    #[error("The sign-in provider refused: {0}")]
    Refused(String),
    /// The provider's answer does not prove who this is.
    #[error("The sign-in could not be verified: {0}")]
    Invalid(String),
    /// The provider knows the person, but the catalog does not (Backstage's resolver failure).
    #[error("Failed to sign in, unable to resolve user identity: {0}")]
    Unresolved(String),
}

/// The identity of a user named `name` by a provider: `user:default/<name>`, the name lower-cased
/// (entity refs compare case-insensitively; this keeps one principal per person), provided it is a
/// valid entity name (`[a-z0-9]` runs joined by `-`, `_` or `.`, at most 63 characters).
pub fn identity(name: &str, display_name: Option<&str>) -> Result<Identity, LoginError> {
    let lower = name.trim().to_lowercase();
    if !is_entity_name(&lower) {
        return Err(LoginError::Invalid(format!(
            "'{}' is not a valid user name (letters, digits and single -, _ or . between them, at \
             most 63 characters)",
            printable(name)
        )));
    }
    let display_name = display_name
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map_or_else(|| lower.clone(), |d| printable(d).to_owned());
    Ok(Identity {
        principal: Principal::user(format!("user:default/{lower}")),
        display_name,
    })
}

/// Backstage's entity name rule.
fn is_entity_name(name: &str) -> bool {
    if name.is_empty() || name.len() > 63 {
        return false;
    }
    let bytes = name.as_bytes();
    let alnum = |b: u8| b.is_ascii_alphanumeric();
    alnum(bytes[0])
        && alnum(bytes[bytes.len() - 1])
        && bytes.windows(2).all(|pair| {
            let separator = |b: u8| matches!(b, b'-' | b'_' | b'.');
            !(separator(pair[0]) && separator(pair[1]))
        })
        && bytes
            .iter()
            .all(|b| alnum(*b) || matches!(b, b'-' | b'_' | b'.'))
}

/// At most 80 characters of `text`, for messages.
fn printable(text: &str) -> &str {
    match text.char_indices().nth(80) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// The timeout of every call to a provider.
const PROVIDER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The largest answer read from a provider.
const MAX_PROVIDER_BYTES: usize = 1024 * 1024;

/// Sends a request to a provider: its status and body (at most [`MAX_PROVIDER_BYTES`]).
async fn call(request: reqwest::RequestBuilder) -> Result<(u16, bytes::Bytes), LoginError> {
    crate::fetch::send_limited(request, MAX_PROVIDER_BYTES)
        .await
        .map_err(|e| LoginError::Unavailable(e.to_string()))
}

/// A form body (`application/x-www-form-urlencoded`).
fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_user_refs() {
        let id = identity("JDoe", Some("Jane Doe")).unwrap();
        assert_eq!(id.principal.subject, "user:default/jdoe");
        assert_eq!(id.display_name, "Jane Doe");
        assert_eq!(identity("a.b_c-d", None).unwrap().display_name, "a.b_c-d");
        for bad in ["", "-x", "x-", "a..b", "a b", "x/y", &"x".repeat(64)] {
            assert!(identity(bad, None).is_err(), "{bad}");
        }
    }
}
