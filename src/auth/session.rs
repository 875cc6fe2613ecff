//! Browser sessions: what a signed-in browser's cookie stands for. A session names the same
//! [`Principal`] a bearer token for that user would, so the UI reaches the services with the same
//! isolation and the same rate limits. Sessions live in the database (both backends), so every
//! replica knows them and a restart signs no one out; the cookie is a random token of which only
//! the hash is stored.

pub mod store;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::Principal;
use crate::clock::Clock;
use crate::db::StoreError;
use store::{LoginRow, SessionRow, SessionStore};

/// How long a sign-in may take at the provider before its state is forgotten.
pub const LOGIN_TTL: Duration = Duration::from_secs(10 * 60);

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who is signed in: the same principal a bearer token for them is.
    pub principal: Principal,
    /// A name to show.
    pub display_name: String,
    /// `guest`, `oidc` or `github`.
    pub provider: String,
    /// The token every form post of this session must carry.
    pub csrf_token: String,
    /// When the session ends (epoch milliseconds).
    pub expires_at_ms: i64,
}

impl Session {
    /// Whether `token` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, token: &str) -> bool {
        !token.is_empty() && bool::from(self.csrf_token.as_bytes().ct_eq(token.as_bytes()))
    }
}

/// A sign-in under way: what the callback needs to finish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    /// The `state` parameter sent to the provider.
    pub state: String,
    /// `oidc` or `github`.
    pub provider: String,
    /// The PKCE code verifier (RFC 7636).
    pub verifier: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// Where to go once signed in (a path of this site).
    pub return_to: String,
}

/// Sessions and sign-ins under way, over a [`SessionStore`].
#[derive(Clone)]
pub struct Sessions {
    store: Arc<dyn SessionStore>,
    ttl: Duration,
    clock: Arc<dyn Clock>,
}

/// `bytes` random bytes from the OS, URL-safe base64 without padding.
pub fn random_token(bytes: usize) -> String {
    use rand_core::RngCore;
    let mut buffer = vec![0u8; bytes];
    rand_core::OsRng.fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

fn hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

impl Sessions {
    /// Sessions over `store` that last `ttl` on `clock`.
    pub fn new(store: Arc<dyn SessionStore>, ttl: Duration, clock: Arc<dyn Clock>) -> Sessions {
        Sessions { store, ttl, clock }
    }

    fn now_ms(&self) -> i64 {
        i64::try_from(self.clock.now().as_millis()).unwrap_or(i64::MAX)
    }

    /// How long a session lasts.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Signs `principal` in: the new session and the cookie token that stands for it.
    pub async fn start(
        &self,
        principal: Principal,
        display_name: &str,
        provider: &str,
    ) -> Result<(String, Session), StoreError> {
        let token = random_token(32);
        let now = self.now_ms();
        let ttl = i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX);
        let row = SessionRow {
            token_hash: hash(&token),
            subject: principal.subject.clone(),
            display_name: display_name.to_owned(),
            provider: provider.to_owned(),
            csrf_token: random_token(24),
            created_at_ms: now,
            expires_at_ms: now.saturating_add(ttl),
        };
        self.store.create(&row, now).await?;
        tracing::info!(subject = %principal.subject, provider, "browser session started");
        let session = Session {
            principal,
            display_name: row.display_name,
            provider: row.provider,
            csrf_token: row.csrf_token,
            expires_at_ms: row.expires_at_ms,
        };
        Ok((token, session))
    }

    /// The live session a cookie token stands for.
    pub async fn find(&self, token: &str) -> Result<Option<Session>, StoreError> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let Some(row) = self.store.find(&hash(token), self.now_ms()).await? else {
            return Ok(None);
        };
        let principal = if row.subject.starts_with("user:") {
            Principal::user(row.subject)
        } else {
            Principal::service(row.subject)
        };
        Ok(Some(Session {
            principal,
            display_name: row.display_name,
            provider: row.provider,
            csrf_token: row.csrf_token,
            expires_at_ms: row.expires_at_ms,
        }))
    }

    /// Signs a session out (nothing happens for an unknown token).
    pub async fn end(&self, token: &str) -> Result<(), StoreError> {
        self.store.delete(&hash(token)).await?;
        Ok(())
    }

    /// Starts a sign-in with `provider`: a fresh state, PKCE verifier and nonce, kept on the server.
    pub async fn begin_login(
        &self,
        provider: &str,
        return_to: &str,
    ) -> Result<PendingLogin, StoreError> {
        let now = self.now_ms();
        let login = PendingLogin {
            state: random_token(24),
            provider: provider.to_owned(),
            verifier: random_token(48),
            nonce: random_token(24),
            return_to: return_to.to_owned(),
        };
        let ttl = i64::try_from(LOGIN_TTL.as_millis()).unwrap_or(i64::MAX);
        let row = LoginRow {
            state: login.state.clone(),
            provider: login.provider.clone(),
            verifier: login.verifier.clone(),
            nonce: login.nonce.clone(),
            return_to: login.return_to.clone(),
            expires_at_ms: now.saturating_add(ttl),
        };
        self.store.save_login(&row, now).await?;
        Ok(login)
    }

    /// The sign-in a provider's callback names by its state, once: a second callback with the
    /// same state, or one after [`LOGIN_TTL`], finds nothing.
    pub async fn finish_login(&self, state: &str) -> Result<Option<PendingLogin>, StoreError> {
        if state.is_empty() || state.len() > 128 {
            return Ok(None);
        }
        Ok(self
            .store
            .take_login(state, self.now_ms())
            .await?
            .map(|row| PendingLogin {
                state: row.state,
                provider: row.provider,
                verifier: row.verifier,
                nonce: row.nonce,
                return_to: row.return_to,
            }))
    }
}

/// The PKCE S256 challenge of a verifier (RFC 7636 §4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_matches_the_rfc_example() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn tokens_are_random_and_url_safe() {
        let a = random_token(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token(32));
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }
}
