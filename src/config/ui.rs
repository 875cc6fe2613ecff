//! `[ui]`: the web UI served by the same binary: how people sign in (OpenID Connect, GitHub, or a
//! guest for local use), how long a browser session lasts, who sees the admin page, and the
//! golden-path devfiles offered as quick picks on the workspaces page.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ConfigError, duration};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UiSettings {
    /// Serve the web UI at `/`.
    pub enabled: bool,
    /// How long a browser session lasts after sign-in.
    pub session_ttl: String,
    /// `auto` (on only when listening on loopback with no provider configured), `on` or `off`.
    pub guest: String,
    /// The portal's external URL (scheme, host, port and any path prefix), for sign-in callbacks;
    /// empty: `http://<server.listen><server.public_base_path>/`.
    pub public_url: String,
    /// Members of this group (catalog `memberOf`) see the admin page.
    pub admin_group: String,
    /// Principals (entity refs) who see the admin page whatever their groups.
    pub admin_users: Vec<String>,
    /// The quick picks of the workspace launcher.
    pub golden_paths: Vec<GoldenPathSettings>,
    pub oidc: OidcSettings,
    pub github: GithubSettings,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GoldenPathSettings {
    pub name: String,
    pub title: String,
    pub description: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OidcSettings {
    /// The provider's issuer URL; empty turns OpenID Connect sign-in off.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Or the name of an environment variable holding the secret.
    pub client_secret_env: String,
    pub scopes: Vec<String>,
    /// The ID token claim naming the user (an email's local part is used).
    pub user_claim: String,
    /// The sign-in button's label.
    pub label: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GithubSettings {
    /// The OAuth app's client id; empty turns GitHub sign-in off.
    pub client_id: String,
    pub client_secret: String,
    pub client_secret_env: String,
    /// GitHub (or GitHub Enterprise) web URL, for the authorize and token endpoints.
    pub url: String,
    /// Its REST API URL, for `GET /user`.
    pub api_url: String,
    /// Admit a GitHub login that names no User entity in the catalog (Backstage's
    /// `dangerouslyAllowSignInWithoutUserInCatalog`); off: such a sign-in is refused, as
    /// Backstage's `usernameMatchingUserEntityName` resolver refuses it.
    pub allow_sign_in_without_user_entity: bool,
}

impl Default for UiSettings {
    fn default() -> Self {
        const DEVFILES: &str =
            "https://raw.githubusercontent.com/paruff/fawkes/main/platform/devfiles";
        Self {
            enabled: true,
            session_ttl: "12h".into(),
            guest: "auto".into(),
            public_url: String::new(),
            admin_group: "group:default/platform-team".into(),
            admin_users: Vec::new(),
            golden_paths: vec![
                GoldenPathSettings {
                    name: "goldenpath-python".into(),
                    title: "Python (FastAPI, Django, CLI)".into(),
                    description: "Fawkes' Python golden path: UDI with Python, 2 CPU, 4 GiB".into(),
                    url: format!("{DEVFILES}/goldenpath-python.yaml"),
                },
                GoldenPathSettings {
                    name: "goldenpath-ai".into(),
                    title: "AI / ML (TensorFlow, Jupyter)".into(),
                    description: "Fawkes' AI golden path: GPU, 8 CPU, 16 GiB".into(),
                    url: format!("{DEVFILES}/goldenpath-ai.yaml"),
                },
            ],
            oidc: OidcSettings::default(),
            github: GithubSettings::default(),
        }
    }
}

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            issuer: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            client_secret_env: String::new(),
            scopes: vec!["openid".into(), "profile".into(), "email".into()],
            user_claim: "preferred_username".into(),
            label: "Sign in with single sign-on".into(),
        }
    }
}

impl Default for GithubSettings {
    fn default() -> Self {
        Self {
            client_id: String::new(),
            client_secret: String::new(),
            client_secret_env: String::new(),
            url: "https://github.com".into(),
            api_url: "https://api.github.com".into(),
            allow_sign_in_without_user_entity: false,
        }
    }
}

/// Validated `[ui]`.
#[derive(Debug, Clone)]
pub struct UiConfig {
    pub enabled: bool,
    pub session_ttl: Duration,
    pub guest: bool,
    pub public_url: url::Url,
    pub admin_group: String,
    pub admin_users: Vec<String>,
    pub golden_paths: Vec<GoldenPath>,
    pub oidc: Option<OidcConfig>,
    pub github: Option<GithubConfig>,
}

#[derive(Debug, Clone)]
pub struct GoldenPath {
    pub name: String,
    pub title: String,
    pub description: String,
    pub url: String,
}

#[derive(Clone)]
pub struct OidcConfig {
    pub issuer: url::Url,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
    pub user_claim: String,
    pub label: String,
}

#[derive(Clone)]
pub struct GithubConfig {
    pub client_id: String,
    pub client_secret: String,
    pub url: url::Url,
    pub api_url: url::Url,
    pub allow_sign_in_without_user_entity: bool,
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .field("user_claim", &self.user_claim)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for GithubConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubConfig")
            .field("client_id", &self.client_id)
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

impl UiSettings {
    /// `listen` decides the default public URL (with `base_path`, `server.public_base_path`) and
    /// whether guest sign-in is on by default.
    pub fn validate(
        &self,
        listen: SocketAddr,
        base_path: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<UiConfig, ConfigError> {
        let oidc = (!self.oidc.issuer.trim().is_empty())
            .then(|| self.oidc.validate(env))
            .transpose()?;
        let github = (!self.github.client_id.trim().is_empty())
            .then(|| self.github.validate(env))
            .transpose()?;
        let loopback = listen.ip().is_loopback();
        let guest = match self.guest.trim() {
            "auto" => loopback && oidc.is_none() && github.is_none(),
            "on" => true,
            "off" => false,
            other => {
                return Err(ConfigError::new(
                    "ui.guest",
                    format!("'{other}' is not one of: auto, on, off"),
                ));
            }
        };
        let public_url = match self.public_url.trim() {
            "" if loopback || (oidc.is_none() && github.is_none()) => {
                url::Url::parse(&format!("http://{listen}{base_path}/")).map_err(|e| {
                    ConfigError::new("ui.public_url", format!("cannot derive it: {e}"))
                })?
            }
            "" => {
                return Err(ConfigError::new(
                    "ui.public_url",
                    "must be set (e.g. https://portal.example.com) when a sign-in provider is \
                     configured and the server does not listen on loopback: providers redirect \
                     the browser back to it",
                ));
            }
            text => {
                let mut url = url::Url::parse(text)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                    .ok_or_else(|| {
                        ConfigError::new(
                            "ui.public_url",
                            format!(
                                "'{text}' is not an http(s) URL such as https://portal.example.com"
                            ),
                        )
                    })?;
                if !url.path().ends_with('/') {
                    url.set_path(&format!("{}/", url.path()));
                }
                url
            }
        };
        let admin_group = self.admin_group.trim().to_lowercase();
        let mut golden_paths = Vec::new();
        for (i, path) in self.golden_paths.iter().enumerate() {
            let setting = format!("ui.golden_paths[{i}]");
            let url = url::Url::parse(path.url.trim())
                .ok()
                .filter(|u| u.scheme() == "https")
                .ok_or_else(|| {
                    ConfigError::new(
                        format!("{setting}.url"),
                        format!("'{}' is not an https URL of a devfile", path.url),
                    )
                })?;
            if path.name.trim().is_empty() {
                return Err(ConfigError::new(
                    format!("{setting}.name"),
                    "must not be empty",
                ));
            }
            golden_paths.push(GoldenPath {
                name: path.name.trim().to_owned(),
                title: if path.title.trim().is_empty() {
                    path.name.trim().to_owned()
                } else {
                    path.title.trim().to_owned()
                },
                description: path.description.trim().to_owned(),
                url: url.to_string(),
            });
        }
        Ok(UiConfig {
            enabled: self.enabled,
            session_ttl: duration("ui.session_ttl", &self.session_ttl)?,
            guest,
            public_url,
            admin_group,
            admin_users: self
                .admin_users
                .iter()
                .map(|u| u.trim().to_lowercase())
                .filter(|u| !u.is_empty())
                .collect(),
            golden_paths,
            oidc,
            github,
        })
    }
}

impl OidcSettings {
    fn validate(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<OidcConfig, ConfigError> {
        let issuer = provider_url("ui.oidc.issuer", self.issuer.trim())?;
        if self.client_id.trim().is_empty() {
            return Err(ConfigError::new(
                "ui.oidc.client_id",
                "must be set when ui.oidc.issuer is",
            ));
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return Err(ConfigError::new(
                "ui.oidc.scopes",
                "must include \"openid\" (an OpenID Connect sign-in asks for an ID token)",
            ));
        }
        if self.user_claim.trim().is_empty() {
            return Err(ConfigError::new("ui.oidc.user_claim", "must not be empty"));
        }
        Ok(OidcConfig {
            issuer,
            client_id: self.client_id.trim().to_owned(),
            client_secret: secret("ui.oidc", &self.client_secret, &self.client_secret_env, env)?,
            scopes: self.scopes.clone(),
            user_claim: self.user_claim.trim().to_owned(),
            label: self.label.trim().to_owned(),
        })
    }
}

impl GithubSettings {
    fn validate(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<GithubConfig, ConfigError> {
        let client_secret = secret(
            "ui.github",
            &self.client_secret,
            &self.client_secret_env,
            env,
        )?;
        if client_secret.is_empty() {
            return Err(ConfigError::new(
                "ui.github.client_secret",
                "must be set when ui.github.client_id is (GitHub OAuth apps need it)",
            ));
        }
        Ok(GithubConfig {
            client_id: self.client_id.trim().to_owned(),
            client_secret,
            url: provider_url("ui.github.url", self.url.trim())?,
            api_url: provider_url("ui.github.api_url", self.api_url.trim())?,
            allow_sign_in_without_user_entity: self.allow_sign_in_without_user_entity,
        })
    }
}

/// The client secret, given directly or through an environment variable (possibly empty: public
/// clients with PKCE have none).
fn secret(
    section: &str,
    value: &str,
    env_name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    match (value.trim(), env_name.trim()) {
        (value, "") => Ok(value.to_owned()),
        ("", name) => env(name).ok_or_else(|| {
            ConfigError::new(
                format!("{section}.client_secret_env"),
                format!("environment variable {name} is not set"),
            )
        }),
        _ => Err(ConfigError::new(
            format!("{section}.client_secret"),
            "set client_secret or client_secret_env, not both",
        )),
    }
}

/// An https URL, or http on a loopback host (a provider on the same machine, or a test's).
fn provider_url(setting: &str, text: &str) -> Result<url::Url, ConfigError> {
    let url = url::Url::parse(text)
        .map_err(|e| ConfigError::new(setting, format!("'{text}' is not a URL: {e}")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(ConfigError::new(
            setting,
            format!("'{text}' must be an https URL (http only on a loopback host)"),
        )),
    }
}
