//! One trusted token issuer: which tokens it signs, with which keys, and whom they stand for.

use std::str::FromStr;
use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::AuthError;
use super::claims::{BACKSTAGE_AUDIENCE, SERVICE_TYP, USER_TYP, Unverified};
use super::issuer::{BuiltInIssuer, SERVICE_AUDIENCE};
use super::jwks::{Key, RemoteKeySet, Source};
use crate::config::AuthConfig;
use crate::config::auth::{BackstageConfig, KubernetesConfig};
use crate::principal::Principal;

const JWKS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

enum Kind {
    /// Backstage's auth backend: user tokens.
    Backstage,
    /// A cluster's service-account issuer: tokens minted for `audience`.
    Kubernetes { audience: String },
    /// Our own issuer: user tokens in Backstage's format, and service tokens.
    BuiltIn,
}

enum Keys {
    Remote(Box<RemoteKeySet>),
    Local(Arc<BuiltInIssuer>),
}

pub struct TrustedIssuer {
    iss: String,
    kind: Kind,
    keys: Keys,
    /// Asymmetric algorithms only: an HMAC token is never checked against a public key.
    algorithms: &'static [Algorithm],
    leeway: u64,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    iat: Option<u64>,
}

impl TrustedIssuer {
    pub fn builtin(issuer: Arc<BuiltInIssuer>, config: &AuthConfig) -> Self {
        Self {
            iss: issuer.issuer().to_owned(),
            kind: Kind::BuiltIn,
            keys: Keys::Local(issuer),
            algorithms: &[Algorithm::ES256],
            leeway: config.leeway.as_secs(),
        }
    }

    pub fn backstage(backstage: &BackstageConfig, config: &AuthConfig) -> anyhow::Result<Self> {
        let client = crate::fetch::client(JWKS_TIMEOUT, None)?;
        let keys = RemoteKeySet::new(
            backstage.issuer.clone(),
            Source::Url(backstage.jwks_url.clone()),
            client,
            None,
            config.jwks_refetch_interval,
            config.jwks_max_age,
        );
        Ok(Self {
            iss: backstage.issuer.clone(),
            kind: Kind::Backstage,
            keys: Keys::Remote(Box::new(keys)),
            algorithms: &[
                Algorithm::ES256,
                Algorithm::ES384,
                Algorithm::RS256,
                Algorithm::PS256,
                Algorithm::EdDSA,
            ],
            leeway: config.leeway.as_secs(),
        })
    }

    pub fn kubernetes(kubernetes: &KubernetesConfig, config: &AuthConfig) -> anyhow::Result<Self> {
        let client = crate::fetch::client(JWKS_TIMEOUT, kubernetes.ca_file.as_deref())?;
        let source = match &kubernetes.jwks_url {
            Some(url) => Source::Url(url.clone()),
            None => Source::Discovery(url::Url::parse(&kubernetes.issuer)?),
        };
        let keys = RemoteKeySet::new(
            kubernetes.issuer.clone(),
            source,
            client,
            kubernetes.token_file.clone(),
            config.jwks_refetch_interval,
            config.jwks_max_age,
        );
        Ok(Self {
            iss: kubernetes.issuer.clone(),
            kind: Kind::Kubernetes {
                audience: kubernetes.audience.clone(),
            },
            keys: Keys::Remote(Box::new(keys)),
            algorithms: &[
                Algorithm::RS256,
                Algorithm::RS384,
                Algorithm::RS512,
                Algorithm::ES256,
                Algorithm::ES384,
            ],
            leeway: config.leeway.as_secs(),
        })
    }

    pub fn iss(&self) -> &str {
        &self.iss
    }

    /// Checks signature and claims; returns the principal and the token's expiry (epoch seconds).
    pub async fn verify(
        &self,
        token: &str,
        parsed: &Unverified,
    ) -> Result<(Principal, u64), AuthError> {
        let alg = Algorithm::from_str(&parsed.alg)
            .ok()
            .filter(|alg| self.algorithms.contains(alg))
            .ok_or_else(|| {
                AuthError::UnsupportedAlgorithm(super::claims::printable(&parsed.alg))
            })?;
        let audience = self.audience(parsed.typ.as_deref())?;
        let key = self.key(parsed.kid.as_deref()).await?;
        if key.alg.is_some_and(|key_alg| key_alg != alg) {
            return Err(AuthError::UnsupportedAlgorithm(parsed.alg.clone()));
        }
        let mut validation = Validation::new(alg);
        validation.leeway = self.leeway;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.iss]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)
            .map_err(|e| self.refusal(e.kind(), &parsed.alg))?;
        let claims = data.claims;
        // jsonwebtoken checks `exp` and `nbf` only; `auth.leeway` applies to `iat` too.
        if let Some(iat) = claims.iat {
            let now = jsonwebtoken::get_current_timestamp();
            if iat > now.saturating_add(self.leeway) {
                return Err(AuthError::IssuedInFuture {
                    seconds: iat - now,
                    leeway: self.leeway,
                });
            }
        }
        let principal = match (&self.kind, parsed.typ.as_deref()) {
            (Kind::Kubernetes { .. }, _) => {
                if !claims.sub.starts_with("system:serviceaccount:") {
                    return Err(AuthError::Invalid(
                        "the subject is not a service account".into(),
                    ));
                }
                Principal::service(claims.sub)
            }
            (Kind::BuiltIn, Some(SERVICE_TYP)) => Principal::service(claims.sub),
            _ => {
                if claims.iat.is_none() {
                    return Err(AuthError::Invalid("the 'iat' claim is missing".into()));
                }
                Principal::user(user_ref(&claims.sub)?)
            }
        };
        Ok((principal, claims.exp))
    }

    /// The audience this kind of token must carry, by its `typ`.
    fn audience(&self, typ: Option<&str>) -> Result<&str, AuthError> {
        match (&self.kind, typ) {
            (Kind::Kubernetes { audience }, _) => Ok(audience),
            (Kind::Backstage | Kind::BuiltIn, Some(USER_TYP) | None) => Ok(BACKSTAGE_AUDIENCE),
            (Kind::BuiltIn, Some(SERVICE_TYP)) => Ok(SERVICE_AUDIENCE),
            (_, Some("vnd.backstage.plugin")) => Err(AuthError::Invalid(
                "Backstage plugin tokens are not accepted; send a user token".into(),
            )),
            (_, Some(other)) => Err(AuthError::Invalid(format!(
                "unexpected token type '{}'",
                super::claims::printable(other)
            ))),
        }
    }

    async fn key(&self, kid: Option<&str>) -> Result<Arc<Key>, AuthError> {
        match &self.keys {
            Keys::Remote(set) => set.key(kid).await,
            Keys::Local(issuer) => match kid {
                Some(kid) if kid == issuer.kid() => Ok(issuer.verification_key()),
                other => Err(AuthError::UnknownKey(super::claims::printable(
                    other.unwrap_or_default(),
                ))),
            },
        }
    }

    fn refusal(&self, kind: &ErrorKind, alg: &str) -> AuthError {
        if matches!(kind, ErrorKind::InvalidAudience) || is_missing(kind, "aud") {
            return match &self.kind {
                Kind::Kubernetes { audience } => AuthError::WrongAudience(format!(
                    "the token was not minted for audience '{audience}' (without it, it is a credential for the \
                     cluster itself); mint one with `kubectl create token <service-account> -n <namespace> \
                     --audience {audience}`"
                )),
                _ => AuthError::WrongAudience("this token is not meant for this API".into()),
            };
        }
        match kind {
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::ImmatureSignature => AuthError::NotYetValid,
            ErrorKind::InvalidSignature => AuthError::BadSignature,
            ErrorKind::InvalidAlgorithm => AuthError::UnsupportedAlgorithm(alg.to_owned()),
            ErrorKind::InvalidIssuer => AuthError::UntrustedIssuer(self.iss.clone()),
            ErrorKind::MissingRequiredClaim(claim) => {
                AuthError::Invalid(format!("the '{claim}' claim is missing"))
            }
            ErrorKind::InvalidClaimFormat(claim) => {
                AuthError::Invalid(format!("the '{claim}' claim is malformed"))
            }
            _ => AuthError::Malformed("the token cannot be decoded".into()),
        }
    }
}

fn is_missing(kind: &ErrorKind, claim: &str) -> bool {
    matches!(kind, ErrorKind::MissingRequiredClaim(c) if c == claim)
}

/// A user token's subject must be a user entity ref, `user:<namespace>/<name>`.
fn user_ref(sub: &str) -> Result<String, AuthError> {
    let invalid = || {
        AuthError::Invalid(format!(
            "the subject '{}' is not a user entity ref such as user:default/jdoe",
            super::claims::printable(sub)
        ))
    };
    let (kind, rest) = sub.split_once(':').ok_or_else(invalid)?;
    let (namespace, name) = rest.split_once('/').ok_or_else(invalid)?;
    if !kind.eq_ignore_ascii_case("user")
        || namespace.is_empty()
        || name.is_empty()
        || name.contains('/')
    {
        return Err(invalid());
    }
    Ok(format!("user:{namespace}/{name}"))
}
