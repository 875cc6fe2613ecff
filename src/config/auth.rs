//! `[auth]`: which kinds of bearer token are accepted, and from whom.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ConfigError, duration};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// Whether `/metrics` is served without a token.
    pub public_metrics: bool,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: String,
    /// A token naming an unknown key id refetches its issuer's key set at most this often.
    pub jwks_refetch_interval: String,
    /// Key sets are refetched when older than this, even without an unknown key id.
    pub jwks_max_age: String,
    pub issuer: IssuerSettings,
    pub backstage: BackstageSettings,
    pub kubernetes: KubernetesSettings,
    pub static_tokens: Vec<StaticTokenSettings>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IssuerSettings {
    pub enabled: bool,
    /// The `iss` of the tokens it issues.
    pub issuer: String,
    pub default_ttl: String,
    pub max_ttl: String,
    /// A PEM file holding the signing key (a mounted Secret), shared by every replica; empty:
    /// `<data_dir>/auth/issuer-es256.pem`, created at first start.
    pub key_file: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackstageSettings {
    /// The Backstage backend's external base URL; empty turns Backstage user tokens off.
    pub base_url: String,
    /// Default `<base_url>/api/auth`.
    pub issuer: String,
    /// Default `<base_url>/api/auth/.well-known/jwks.json`.
    pub jwks_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KubernetesSettings {
    /// The cluster's service-account issuer; empty turns service-account tokens off.
    pub issuer: String,
    /// Default: discovered from `<issuer>/.well-known/openid-configuration`.
    pub jwks_url: String,
    /// The audience tokens must be minted for (`kubectl create token ... --audience`).
    pub audience: String,
    /// PEM file of the CA that signs the cluster's TLS certificate.
    pub ca_file: String,
    /// A bearer token file to present when fetching the key set (in-cluster: the pod's own token).
    pub token_file: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StaticTokenSettings {
    /// The token itself, or
    pub token: String,
    /// the name of the environment variable holding it.
    pub token_env: String,
    /// The service principal it authenticates as.
    pub subject: String,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            public_metrics: true,
            leeway: "60s".into(),
            jwks_refetch_interval: "30s".into(),
            jwks_max_age: "10m".into(),
            issuer: IssuerSettings::default(),
            backstage: BackstageSettings::default(),
            kubernetes: KubernetesSettings::default(),
            static_tokens: Vec::new(),
        }
    }
}

impl Default for IssuerSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            issuer: "fawkes-portal".into(),
            default_ttl: "1h".into(),
            max_ttl: "30d".into(),
            key_file: String::new(),
        }
    }
}

impl Default for KubernetesSettings {
    fn default() -> Self {
        Self {
            issuer: String::new(),
            jwks_url: String::new(),
            audience: "fawkes-portal".into(),
            ca_file: String::new(),
            token_file: String::new(),
        }
    }
}

/// Validated `[auth]`.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub public_metrics: bool,
    pub leeway: Duration,
    pub jwks_refetch_interval: Duration,
    pub jwks_max_age: Duration,
    pub issuer: Option<IssuerConfig>,
    pub backstage: Option<BackstageConfig>,
    pub kubernetes: Option<KubernetesConfig>,
    pub static_tokens: Vec<StaticToken>,
}

#[derive(Debug, Clone)]
pub struct IssuerConfig {
    pub issuer: String,
    pub default_ttl: Duration,
    pub max_ttl: Duration,
    /// The configured key file; `None`: the one in the data directory.
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct BackstageConfig {
    pub issuer: String,
    pub jwks_url: url::Url,
}

#[derive(Debug, Clone)]
pub struct KubernetesConfig {
    pub issuer: String,
    pub jwks_url: Option<url::Url>,
    pub audience: String,
    pub ca_file: Option<PathBuf>,
    pub token_file: Option<PathBuf>,
}

/// A configured static token. `Debug` does not show the token.
#[derive(Clone)]
pub struct StaticToken {
    pub token: String,
    pub subject: String,
}

impl std::fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticToken")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl AuthSettings {
    /// `env` resolves `token_env` names; it is the process environment in production.
    pub fn validate(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<AuthConfig, ConfigError> {
        let issuer = self
            .issuer
            .enabled
            .then(|| self.issuer.validate())
            .transpose()?;
        let backstage = (!self.backstage.base_url.trim().is_empty())
            .then(|| self.backstage.validate())
            .transpose()?;
        let kubernetes = (!self.kubernetes.issuer.trim().is_empty())
            .then(|| self.kubernetes.validate())
            .transpose()?;
        let mut static_tokens: Vec<StaticToken> = Vec::new();
        for (i, entry) in self.static_tokens.iter().enumerate() {
            let token = entry.validate(i, env)?;
            if static_tokens.iter().any(|t| t.token == token.token) {
                return Err(ConfigError::new(
                    format!("auth.static_tokens[{i}]"),
                    "the same token is configured twice",
                ));
            }
            static_tokens.push(token);
        }
        Ok(AuthConfig {
            public_metrics: self.public_metrics,
            leeway: duration_or_zero("auth.leeway", &self.leeway)?,
            jwks_refetch_interval: duration_or_zero(
                "auth.jwks_refetch_interval",
                &self.jwks_refetch_interval,
            )?,
            jwks_max_age: duration("auth.jwks_max_age", &self.jwks_max_age)?,
            issuer,
            backstage,
            kubernetes,
            static_tokens,
        })
    }
}

impl IssuerSettings {
    fn validate(&self) -> Result<IssuerConfig, ConfigError> {
        if self.issuer.trim().is_empty() {
            return Err(ConfigError::new(
                "auth.issuer.issuer",
                "must not be empty while the issuer is enabled",
            ));
        }
        let default_ttl = duration("auth.issuer.default_ttl", &self.default_ttl)?;
        let max_ttl = duration("auth.issuer.max_ttl", &self.max_ttl)?;
        if default_ttl > max_ttl {
            return Err(ConfigError::new(
                "auth.issuer.default_ttl",
                "must not be longer than auth.issuer.max_ttl",
            ));
        }
        let key_file = match self.key_file.trim() {
            "" => None,
            path if PathBuf::from(path).is_file() => Some(PathBuf::from(path)),
            path => {
                return Err(ConfigError::new(
                    "auth.issuer.key_file",
                    format!("file {path} does not exist (it is read, never created)"),
                ));
            }
        };
        Ok(IssuerConfig {
            issuer: self.issuer.clone(),
            default_ttl,
            max_ttl,
            key_file,
        })
    }
}

impl BackstageSettings {
    fn validate(&self) -> Result<BackstageConfig, ConfigError> {
        let base = self.base_url.trim().trim_end_matches('/');
        let base_url = http_url("auth.backstage.base_url", base)?;
        let issuer = if self.issuer.trim().is_empty() {
            format!("{base}/api/auth")
        } else {
            self.issuer.trim().to_owned()
        };
        let jwks_url = if self.jwks_url.trim().is_empty() {
            base_url
                .join("/api/auth/.well-known/jwks.json")
                .map_err(|e| ConfigError::new("auth.backstage.base_url", e.to_string()))?
        } else {
            http_url("auth.backstage.jwks_url", self.jwks_url.trim())?
        };
        Ok(BackstageConfig { issuer, jwks_url })
    }
}

impl KubernetesSettings {
    fn validate(&self) -> Result<KubernetesConfig, ConfigError> {
        let issuer = self.issuer.trim().to_owned();
        let jwks_url = if self.jwks_url.trim().is_empty() {
            http_url("auth.kubernetes.issuer", &issuer)?;
            None
        } else {
            Some(http_url("auth.kubernetes.jwks_url", self.jwks_url.trim())?)
        };
        if self.audience.trim().is_empty() {
            return Err(ConfigError::new(
                "auth.kubernetes.audience",
                "must not be empty: tokens without our own audience are credentials for the cluster itself",
            ));
        }
        let existing_file = |setting: &str, value: &str| -> Result<Option<PathBuf>, ConfigError> {
            let value = value.trim();
            if value.is_empty() {
                return Ok(None);
            }
            let path = PathBuf::from(value);
            if !path.is_file() {
                return Err(ConfigError::new(
                    setting,
                    format!("file {value} does not exist"),
                ));
            }
            Ok(Some(path))
        };
        Ok(KubernetesConfig {
            issuer,
            jwks_url,
            audience: self.audience.trim().to_owned(),
            ca_file: existing_file("auth.kubernetes.ca_file", &self.ca_file)?,
            token_file: existing_file("auth.kubernetes.token_file", &self.token_file)?,
        })
    }
}

impl StaticTokenSettings {
    fn validate(
        &self,
        i: usize,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<StaticToken, ConfigError> {
        let setting = |key: &str| format!("auth.static_tokens[{i}].{key}");
        let token = match (self.token.is_empty(), self.token_env.is_empty()) {
            (false, true) => self.token.clone(),
            (true, false) => env(&self.token_env).ok_or_else(|| {
                ConfigError::new(
                    setting("token_env"),
                    format!("environment variable {} is not set", self.token_env),
                )
            })?,
            _ => {
                return Err(ConfigError::new(
                    setting("token"),
                    "set exactly one of token and token_env",
                ));
            }
        };
        if token.len() < 8 || token.chars().any(char::is_whitespace) {
            return Err(ConfigError::new(
                setting("token"),
                "a static token must be at least 8 characters with no whitespace",
            ));
        }
        let subject = self.subject.trim();
        if subject.is_empty() || subject.chars().any(char::is_whitespace) {
            return Err(ConfigError::new(
                setting("subject"),
                "must be a name with no whitespace, e.g. ci-bot",
            ));
        }
        Ok(StaticToken {
            token,
            subject: subject.to_owned(),
        })
    }
}

fn http_url(setting: &str, value: &str) -> Result<url::Url, ConfigError> {
    let url = url::Url::parse(value)
        .map_err(|e| ConfigError::new(setting, format!("'{value}' is not a URL: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(ConfigError::new(
            setting,
            format!("'{value}' must be an http(s) URL"),
        ));
    }
    Ok(url)
}

fn duration_or_zero(setting: &str, value: &str) -> Result<Duration, ConfigError> {
    if value.trim() == "0" || value.trim() == "0s" {
        return Ok(Duration::ZERO);
    }
    duration(setting, value)
}
