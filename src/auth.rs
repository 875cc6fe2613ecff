//! Who is calling. Every route outside [`PUBLIC_PATHS`] needs `Authorization: Bearer <token>`; the
//! [`Authenticator`] turns the token into a [`Principal`] or an [`AuthError`]. Accepted tokens
//! (each enabled by `[auth]` configuration):
//! - Backstage user tokens (ES256 JWTs, `typ: vnd.backstage.user`), verified against Backstage's JWKS;
//! - Kubernetes service-account tokens minted for our audience, verified against the cluster's JWKS;
//! - static service tokens from configuration, compared in constant time;
//! - tokens from the built-in issuer (`fawkes-portal token issue`).
//!
//! Verified tokens are cached until they expire, so a token costs one signature check.

mod cache;
mod claims;
mod crypto;
pub mod guard;
pub mod http;
pub mod issuer;
mod jwks;
pub mod login;
pub mod session;
pub mod share;
mod static_tokens;
mod trusted;

use std::sync::Arc;

use axum::http::HeaderValue;

use axum::extract::FromRef;
use utoipa_axum::router::OpenApiRouter;

use crate::clock::Clock;
use crate::config::{AuthConfig, Config};
use crate::principal::Principal;
use crate::rate_limit::RateLimiter;
use issuer::BuiltInIssuer;

/// The auth feature's state: the token verifier and the rate limiter the [`guard`] spends budgets
/// on, the built-in issuer when enabled, and the `[auth]` settings. Cheap to clone.
#[derive(Clone)]
pub struct Auth {
    /// Verifies bearer tokens.
    pub authenticator: Arc<Authenticator>,
    /// Counts requests against each caller's budget.
    pub limiter: Arc<RateLimiter>,
    /// The built-in token issuer, when enabled.
    pub issuer: Option<Arc<BuiltInIssuer>>,
    /// The `[auth]` settings.
    pub config: Arc<AuthConfig>,
}

impl Auth {
    /// The verifiers, the issuer (its key loaded from, or created in, the data directory) and the
    /// rate limiter of `config`; counting windows follow `clock`.
    pub fn new(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Auth> {
        let issuer = match &config.auth.issuer {
            Some(issuer_config) => Some(Arc::new(BuiltInIssuer::load_or_create(
                &config.data_dir,
                issuer_config,
            )?)),
            None => None,
        };
        Ok(Auth {
            authenticator: Arc::new(Authenticator::new(&config.auth, issuer.clone())?),
            limiter: Arc::new(RateLimiter::from_config(&config.rate_limit, clock)?),
            issuer,
            config: Arc::new(config.auth.clone()),
        })
    }
}

/// The auth routes: the built-in issuer's keys, and who the caller is.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Auth: FromRef<S>,
{
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(http::jwks))
        .routes(routes!(http::userinfo))
}

/// Paths served without a token. Everything else that matches a route needs one.
pub const PUBLIC_PATHS: &[&str] = &[
    "/healthz",
    "/readyz",
    "/metrics",
    "/api",
    "/api/openapi.json",
    "/api/auth/.well-known/jwks.json",
    "/.backstage/health/v1/liveness",
    "/.backstage/health/v1/readiness",
];

/// Whether `route` (a matched route template) is served without a token.
pub fn is_public(route: &str, config: &AuthConfig) -> bool {
    if route == "/metrics" {
        return config.public_metrics;
    }
    PUBLIC_PATHS.contains(&route) || route.starts_with(crate::http::DOCS_UI_PATH)
}

/// Why a token was refused. Messages say what is wrong and never echo the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header, or an empty token.
    #[error("Missing credentials: send `Authorization: Bearer <token>`")]
    Missing,
    /// Not `Bearer <token>`.
    #[error("The Authorization header must be `Bearer <token>`")]
    NotBearer,
    /// Not a JWT; the parser's reason.
    #[error("Malformed token: {0}")]
    Malformed(String),
    /// Past its `exp`.
    #[error("Token expired")]
    Expired,
    /// Before its `nbf` or `iat`.
    #[error("Token not yet valid")]
    NotYetValid,
    /// Its `iat` is further ahead of our clock than `auth.leeway`.
    #[error(
        "Token issued in the future: its 'iat' is {seconds}s ahead of this server's clock, more than the {leeway}s allowed (auth.leeway)"
    )]
    IssuedInFuture {
        /// How far ahead of our clock the `iat` is.
        seconds: u64,
        /// `auth.leeway`, in seconds.
        leeway: u64,
    },
    /// Its `iss` is none of the configured issuers.
    #[error("Token issuer '{0}' is not trusted")]
    UntrustedIssuer(String),
    /// Its `aud` is not ours.
    #[error("Token audience is wrong: {0}")]
    WrongAudience(String),
    /// The signature does not verify.
    #[error("Token signature is invalid")]
    BadSignature,
    /// Its `kid` is not in the issuer's key set.
    #[error("Token was signed by an unknown key (kid '{0}')")]
    UnknownKey(String),
    /// Its `alg` is not one we verify.
    #[error("Unsupported token algorithm '{0}'")]
    UnsupportedAlgorithm(String),
    /// A Backstage limited (cookie) user token.
    #[error("Limited user tokens are not accepted; use a full Backstage user token")]
    LimitedToken,
    /// Another problem with the token; the message says what.
    #[error("Invalid token: {0}")]
    Invalid(String),
    /// The issuer's key set cannot be fetched now (503, not 401).
    #[error("Cannot verify the token right now: the key set of issuer '{0}' is unavailable")]
    KeysUnavailable(String),
}

/// Selects the JWT crypto (ES256 on ring); done before any token is signed or verified.
pub fn install_crypto() {
    crypto::install();
}

/// Verifies bearer tokens against every configured kind of token.
pub struct Authenticator {
    static_tokens: static_tokens::StaticTokens,
    issuers: Vec<trusted::TrustedIssuer>,
    cache: cache::TokenCache,
}

impl Authenticator {
    /// Builds the verifiers of `config`. `builtin` is the built-in issuer, when enabled.
    pub fn new(
        config: &AuthConfig,
        builtin: Option<Arc<BuiltInIssuer>>,
    ) -> anyhow::Result<Authenticator> {
        install_crypto();
        let mut issuers = Vec::new();
        if let Some(builtin) = builtin {
            issuers.push(trusted::TrustedIssuer::builtin(builtin, config));
        }
        if let Some(backstage) = &config.backstage {
            issuers.push(trusted::TrustedIssuer::backstage(backstage, config)?);
        }
        if let Some(kubernetes) = &config.kubernetes {
            issuers.push(trusted::TrustedIssuer::kubernetes(kubernetes, config)?);
        }
        Ok(Authenticator {
            static_tokens: static_tokens::StaticTokens::new(&config.static_tokens),
            issuers,
            cache: cache::TokenCache::default(),
        })
    }

    /// The principal behind an `Authorization` header.
    pub async fn authenticate(&self, header: Option<&HeaderValue>) -> Result<Principal, AuthError> {
        let header = header.ok_or(AuthError::Missing)?;
        let value = header.to_str().map_err(|_| AuthError::NotBearer)?;
        let (scheme, token) = value.trim().split_once(' ').ok_or(AuthError::NotBearer)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::NotBearer);
        }
        let token = token.trim();
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        self.verify(token).await
    }

    /// The principal a token stands for.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(principal) = self.cache.get(token, now) {
            return Ok(principal);
        }
        if let Some(subject) = self.static_tokens.find(token) {
            return Ok(Principal::service(subject));
        }
        let parsed = claims::Unverified::parse(token)?;
        if parsed.typ.as_deref() == Some(claims::LIMITED_USER_TYP) {
            return Err(AuthError::LimitedToken);
        }
        let iss = parsed
            .iss
            .clone()
            .ok_or_else(|| AuthError::Invalid("the 'iss' claim is missing".into()))?;
        let issuer = self
            .issuers
            .iter()
            .find(|i| i.iss() == iss)
            .ok_or_else(|| AuthError::UntrustedIssuer(claims::printable(&iss)))?;
        let (principal, exp) = issuer.verify(token, &parsed).await?;
        self.cache.insert(token, principal.clone(), exp);
        Ok(principal)
    }
}

/// Marks every guarded operation in the document: the bearer scheme, and the 401 and 429 answers
/// the guard gives. Public operations are left as they are.
pub fn document(doc: &mut utoipa::openapi::OpenApi, config: &AuthConfig) {
    use utoipa::openapi::{
        ContentBuilder, Ref, RefOr, ResponseBuilder, security::SecurityRequirement,
    };
    let error = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build(),
        )
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        if is_public(path, config) {
            continue;
        }
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
        ];
        for operation in operations.into_iter().flatten() {
            operation.security = Some(vec![SecurityRequirement::new(
                crate::http::openapi::BEARER,
                Vec::<String>::new(),
            )]);
            let responses = &mut operation.responses.responses;
            responses
                .entry("401".into())
                .or_insert_with(|| error("Missing or invalid bearer token"));
            responses
                .entry("429".into())
                .or_insert_with(|| error("Rate limit exceeded; `Retry-After` says when to retry"));
            // What any guarded request may meet besides its own answers: a malformed parameter,
            // and the database or request timeout giving up.
            responses
                .entry("400".into())
                .or_insert_with(|| error("A malformed or unknown parameter"));
            responses.entry("503".into()).or_insert_with(|| {
                error("The database is unavailable, or the request or its query took too long")
            });
            if operation.request_body.is_some() {
                responses
                    .entry("413".into())
                    .or_insert_with(|| error("Request body too large (server.max_body_bytes)"));
                responses
                    .entry("415".into())
                    .or_insert_with(|| error("The body is not sent as `application/json`"));
            }
        }
    }
}
