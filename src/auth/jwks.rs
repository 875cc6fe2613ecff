//! A remote JSON Web Key Set (Backstage's or the cluster's), cached by key id. An unknown key id
//! refetches the set (issuers rotate keys), at most once per `auth.jwks_refetch_interval`, so junk
//! tokens cannot drive traffic to the issuer; one fetch runs at a time.

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use super::AuthError;
use crate::fetch::{self, FetchError};

/// Key sets larger than this are refused.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// A verification key and the algorithm it is for, if the set says.
pub struct Key {
    pub decoding: DecodingKey,
    pub alg: Option<Algorithm>,
}

/// Where the key set is.
pub enum Source {
    Url(url::Url),
    /// Discovered from `<issuer>/.well-known/openid-configuration` on first use.
    Discovery(url::Url),
}

pub struct RemoteKeySet {
    issuer: String,
    source: Source,
    client: reqwest::Client,
    bearer_file: Option<PathBuf>,
    refetch_interval: Duration,
    max_age: Duration,
    state: RwLock<State>,
    fetching: tokio::sync::Mutex<Option<url::Url>>,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, Arc<Key>>,
    fetched: Option<Instant>,
    attempted: Option<Instant>,
}

impl RemoteKeySet {
    pub fn new(
        issuer: String,
        source: Source,
        client: reqwest::Client,
        bearer_file: Option<PathBuf>,
        refetch_interval: Duration,
        max_age: Duration,
    ) -> Self {
        Self {
            issuer,
            source,
            client,
            bearer_file,
            refetch_interval,
            max_age,
            state: RwLock::default(),
            fetching: tokio::sync::Mutex::new(None),
        }
    }

    /// The key a token names, fetching the set when the key is unknown or the set is old.
    pub async fn key(&self, kid: Option<&str>) -> Result<Arc<Key>, AuthError> {
        if let Some(key) = self.cached(kid, true)? {
            return Ok(key);
        }
        let mut jwks_url = self.fetching.lock().await;
        if let Some(key) = self.cached(kid, true)? {
            return Ok(key);
        }
        let (may_fetch, have_keys) = {
            let state = self.read();
            let due = state
                .attempted
                .is_none_or(|at| at.elapsed() >= self.refetch_interval);
            (due, !state.keys.is_empty())
        };
        if may_fetch {
            self.write().attempted = Some(Instant::now());
            match self.fetch(&mut jwks_url).await {
                Ok(keys) => {
                    let mut state = self.write();
                    state.keys = keys;
                    state.fetched = Some(Instant::now());
                }
                Err(err) => {
                    tracing::warn!(issuer = %self.issuer, error = %err, "cannot fetch the issuer's key set");
                    if !have_keys {
                        return Err(AuthError::KeysUnavailable(self.issuer.clone()));
                    }
                }
            }
        }
        match self.cached(kid, false)? {
            Some(key) => Ok(key),
            None if !have_keys && self.read().keys.is_empty() => {
                Err(AuthError::KeysUnavailable(self.issuer.clone()))
            }
            None => Err(AuthError::UnknownKey(super::claims::printable(
                kid.unwrap_or_default(),
            ))),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The key from the cache; with `fresh_only`, only while the set is younger than `max_age`.
    fn cached(&self, kid: Option<&str>, fresh_only: bool) -> Result<Option<Arc<Key>>, AuthError> {
        let state = self.read();
        if fresh_only && state.fetched.is_none_or(|at| at.elapsed() >= self.max_age) {
            return Ok(None);
        }
        match kid {
            Some(kid) => Ok(state.keys.get(kid).cloned()),
            None if state.keys.len() == 1 => Ok(state.keys.values().next().cloned()),
            None if state.keys.is_empty() => Ok(None),
            None => Err(AuthError::Invalid(
                "the token has no key id ('kid') and the issuer has several keys".into(),
            )),
        }
    }

    async fn fetch(
        &self,
        jwks_url: &mut Option<url::Url>,
    ) -> Result<HashMap<String, Arc<Key>>, FetchError> {
        let url = match (&self.source, jwks_url.as_ref()) {
            (Source::Url(url), _) | (Source::Discovery(_), Some(url)) => url.clone(),
            (Source::Discovery(issuer), None) => {
                let discovered = self.discover(issuer).await?;
                *jwks_url = Some(discovered.clone());
                discovered
            }
        };
        let body = fetch::get_limited(self.request(&url), MAX_JWKS_BYTES).await?;
        let set: JwkSet = serde_json::from_slice(&body).map_err(|e| FetchError::Connect {
            reason: format!("{url} is not a JSON Web Key Set: {e}"),
        })?;
        Ok(keys_of(&set))
    }

    async fn discover(&self, issuer: &url::Url) -> Result<url::Url, FetchError> {
        #[derive(Deserialize)]
        struct Discovery {
            jwks_uri: String,
        }
        let config_url = format!(
            "{}/.well-known/openid-configuration",
            issuer.as_str().trim_end_matches('/')
        );
        let config_url = url::Url::parse(&config_url)
            .map_err(|e| FetchError::InvalidUrl(format!("{config_url}: {e}")))?;
        let body = fetch::get_limited(self.request(&config_url), MAX_JWKS_BYTES).await?;
        let discovery: Discovery =
            serde_json::from_slice(&body).map_err(|e| FetchError::Connect {
                reason: format!("{config_url} is not an OpenID configuration: {e}"),
            })?;
        url::Url::parse(&discovery.jwks_uri)
            .map_err(|e| FetchError::InvalidUrl(format!("{}: {e}", discovery.jwks_uri)))
    }

    fn request(&self, url: &url::Url) -> reqwest::RequestBuilder {
        let request = self
            .client
            .get(url.clone())
            .header("accept", "application/json, application/jwk-set+json");
        // A projected service-account token rotates on disk, so it is read at each fetch.
        match self
            .bearer_file
            .as_ref()
            .and_then(|path| std::fs::read_to_string(path).ok())
        {
            Some(token) => request.bearer_auth(token.trim()),
            None => request,
        }
    }
}

/// The usable signing keys of a set, by key id (`""` for a key without one).
fn keys_of(set: &JwkSet) -> HashMap<String, Arc<Key>> {
    set.keys
        .iter()
        .filter(|jwk| !matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)))
        .filter_map(|jwk| {
            let decoding = DecodingKey::from_jwk(jwk).ok()?;
            let alg = jwk
                .common
                .key_algorithm
                .and_then(|a| Algorithm::from_str(&a.to_string()).ok());
            Some((
                jwk.common.key_id.clone().unwrap_or_default(),
                Arc::new(Key { decoding, alg }),
            ))
        })
        .collect()
}
