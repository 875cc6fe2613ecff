//! OpenID Connect sign-in: the authorization code flow with PKCE (RFC 7636, S256) against any
//! standard provider (Keycloak, Dex, GitLab, Google, Okta, ...). The provider is found by
//! discovery (`<issuer>/.well-known/openid-configuration`, whose `issuer` must be the configured
//! one); the ID token from the token endpoint is verified against the provider's JWKS: signature
//! (asymmetric algorithms only), issuer, audience (our client id, and `azp` when several),
//! expiry and the nonce of this sign-in.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use serde_json::Value;

use super::{Identity, LoginError, PROVIDER_TIMEOUT, call, form, identity};
use crate::auth::jwks::{RemoteKeySet, Source};
use crate::auth::session::{PendingLogin, pkce_challenge};
use crate::config::ui::OidcConfig;

/// The signature algorithms accepted on ID tokens.
const ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// What discovery told us about the provider.
struct Provider {
    issuer: String,
    authorization_endpoint: url::Url,
    token_endpoint: url::Url,
    keys: RemoteKeySet,
}

/// OpenID Connect sign-in with one provider, discovered on first use.
pub struct OidcLogin {
    config: OidcConfig,
    client: reqwest::Client,
    leeway: u64,
    refetch_interval: std::time::Duration,
    max_age: std::time::Duration,
    provider: tokio::sync::OnceCell<Arc<Provider>>,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

#[derive(Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

impl OidcLogin {
    /// Sign-in with the provider of `config`; ID tokens get `auth`'s leeway and key-set timing.
    pub fn new(config: OidcConfig, auth: &crate::config::AuthConfig) -> anyhow::Result<OidcLogin> {
        Ok(OidcLogin {
            config,
            client: crate::fetch::client(PROVIDER_TIMEOUT, None)?,
            leeway: auth.leeway.as_secs(),
            refetch_interval: auth.jwks_refetch_interval,
            max_age: auth.jwks_max_age,
            provider: tokio::sync::OnceCell::new(),
        })
    }

    /// The sign-in button's label.
    pub fn label(&self) -> &str {
        &self.config.label
    }

    /// The provider, discovered on first use (a failed discovery is tried again next time).
    async fn provider(&self) -> Result<Arc<Provider>, LoginError> {
        self.provider
            .get_or_try_init(|| async { self.discover().await.map(Arc::new) })
            .await
            .cloned()
    }

    async fn discover(&self) -> Result<Provider, LoginError> {
        let issuer = self.config.issuer.as_str().trim_end_matches('/');
        let url = format!("{issuer}/.well-known/openid-configuration");
        let (status, body) = call(self.client.get(&url)).await?;
        if status != 200 {
            return Err(LoginError::Unavailable(format!(
                "{url} answered status {status}"
            )));
        }
        let found: Discovery = serde_json::from_slice(&body).map_err(|e| {
            LoginError::Unavailable(format!("{url} is not an OpenID configuration: {e}"))
        })?;
        if found.issuer.trim_end_matches('/') != issuer {
            return Err(LoginError::Unavailable(format!(
                "the provider calls itself '{}', not the configured issuer '{issuer}' (ui.oidc.issuer)",
                found.issuer
            )));
        }
        let endpoint = |name: &str, text: &str| {
            url::Url::parse(text)
                .map_err(|e| LoginError::Unavailable(format!("its {name} '{text}': {e}")))
        };
        let jwks_uri = endpoint("jwks_uri", &found.jwks_uri)?;
        Ok(Provider {
            keys: RemoteKeySet::new(
                found.issuer.clone(),
                Source::Url(jwks_uri),
                self.client.clone(),
                None,
                self.refetch_interval,
                self.max_age,
            ),
            issuer: found.issuer,
            authorization_endpoint: endpoint(
                "authorization_endpoint",
                &found.authorization_endpoint,
            )?,
            token_endpoint: endpoint("token_endpoint", &found.token_endpoint)?,
        })
    }

    /// Where to send the browser: the provider's authorization endpoint for this sign-in.
    pub async fn authorize_url(
        &self,
        login: &PendingLogin,
        redirect_uri: &str,
    ) -> Result<url::Url, LoginError> {
        let provider = self.provider().await?;
        let mut url = provider.authorization_endpoint.clone();
        let challenge = pkce_challenge(&login.verifier);
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &self.config.scopes.join(" "))
            .append_pair("state", &login.state)
            .append_pair("nonce", &login.nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(url)
    }

    /// Trades the callback's code for an ID token and says whom it names.
    pub async fn finish(
        &self,
        code: &str,
        login: &PendingLogin,
        redirect_uri: &str,
    ) -> Result<Identity, LoginError> {
        let provider = self.provider().await?;
        let mut pairs = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", login.verifier.as_str()),
        ];
        let mut request = self
            .client
            .post(provider.token_endpoint.clone())
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded");
        if self.config.client_secret.is_empty() {
            // A public client authenticates with PKCE alone.
            pairs.push(("client_id", &self.config.client_id));
        } else {
            // client_secret_basic (RFC 6749 §2.3.1): both parts form-encoded first.
            let basic = format!(
                "{}:{}",
                form_component(&self.config.client_id),
                form_component(&self.config.client_secret)
            );
            request = request.header("authorization", format!("Basic {}", STANDARD.encode(basic)));
        }
        let (status, body) = call(request.body(form(&pairs))).await?;
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|_| {
            LoginError::Unavailable(format!(
                "the token endpoint answered status {status} without JSON"
            ))
        })?;
        if let Some(error) = answer.error {
            let detail = answer.error_description.unwrap_or_default();
            return Err(LoginError::Refused(
                format!("{error} {detail}").trim().to_owned(),
            ));
        }
        let id_token = answer.id_token.filter(|_| status == 200).ok_or_else(|| {
            LoginError::Invalid(format!(
                "the token endpoint answered status {status} without an ID token"
            ))
        })?;
        let claims = self.verify(&provider, &id_token, &login.nonce).await?;
        let name = claims
            .get(&self.config.user_claim)
            .and_then(Value::as_str)
            .ok_or_else(|| {
                LoginError::Invalid(format!(
                    "the ID token has no '{}' claim (ui.oidc.user_claim)",
                    self.config.user_claim
                ))
            })?;
        let name = name.split_once('@').map_or(name, |(local, _)| local);
        identity(name, claims.get("name").and_then(Value::as_str))
    }

    async fn verify(
        &self,
        provider: &Provider,
        token: &str,
        nonce: &str,
    ) -> Result<serde_json::Map<String, Value>, LoginError> {
        let invalid = |what: String| LoginError::Invalid(format!("ID token: {what}"));
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| invalid(format!("malformed ({e})")))?;
        let alg = header.alg;
        if !ALGORITHMS.contains(&alg) {
            return Err(invalid(format!("algorithm {alg:?} is not accepted")));
        }
        let key = provider
            .keys
            .key(header.kid.as_deref())
            .await
            .map_err(|e| invalid(e.to_string()))?;
        if key.alg.is_some_and(|key_alg| key_alg != alg) {
            return Err(invalid("the key is for another algorithm".into()));
        }
        let mut validation = Validation::new(alg);
        validation.leeway = self.leeway;
        validation.set_issuer(&[&provider.issuer]);
        validation.set_audience(&[&self.config.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        let data = jsonwebtoken::decode::<serde_json::Map<String, Value>>(
            token,
            &key.decoding,
            &validation,
        )
        .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            invalid(match e.kind() {
                ErrorKind::ExpiredSignature => "it has expired".into(),
                ErrorKind::InvalidAudience => "it is for another client (audience)".into(),
                ErrorKind::InvalidIssuer => "it was issued by someone else".into(),
                ErrorKind::InvalidSignature => "its signature is invalid".into(),
                ErrorKind::ImmatureSignature => "it is not valid yet".into(),
                ErrorKind::MissingRequiredClaim(claim) => format!("the '{claim}' claim is missing"),
                _ => "it cannot be decoded".into(),
            })
        })?;
        let claims = data.claims;
        if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
            return Err(invalid("the nonce does not match this sign-in".into()));
        }
        if let Some(Value::Array(audiences)) = claims.get("aud")
            && audiences.len() > 1
            && claims.get("azp").and_then(Value::as_str) != Some(self.config.client_id.as_str())
        {
            return Err(invalid(
                "several audiences and the authorized party is not this client".into(),
            ));
        }
        Ok(claims)
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_component(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
