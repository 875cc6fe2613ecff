//! `[fetch]`: the guard on everything the server fetches on a user's behalf (catalog locations,
//! devfiles): which hosts, how long, how much.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ConfigError, duration};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FetchSettings {
    /// `host` or `host:port` entries. An entry naming a loopback, private or link-local host (an IP
    /// literal in those ranges, `localhost`, or a name under a private-use domain such as `.internal`)
    /// is what permits fetching from such addresses.
    pub allow_hosts: Vec<String>,
    /// PEM file of further CAs to trust (an internal GitLab, a test server).
    pub extra_ca_file: String,
    pub timeout: String,
    pub max_bytes: u64,
    /// A GitHub token: blob URLs are then read through the API, which sees private repositories.
    pub github_token: String,
    /// The name of an environment variable holding the GitHub token.
    pub github_token_env: String,
    /// Credentials sent to one allowed host (`[[fetch.credentials]]`): how private devfiles and
    /// catalog files are read. Never taken from a URL, never stored with what was read.
    pub credentials: Vec<CredentialSettings>,
}

/// A token for one host: `Authorization: Bearer <token>`, or Basic with `username`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CredentialSettings {
    /// `host` (port 443) or `host:port`, as on `allow_hosts`.
    pub host: String,
    pub token: String,
    /// The name of an environment variable holding the token.
    pub token_env: String,
    /// With a user name the token is sent as HTTP Basic `username:token` (e.g. a GitLab deploy
    /// token); without, as a bearer token.
    pub username: String,
}

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            allow_hosts: vec![
                "github.com".into(),
                "raw.githubusercontent.com".into(),
                "gitlab.com".into(),
            ],
            extra_ca_file: String::new(),
            timeout: "10s".into(),
            max_bytes: 5 * 1024 * 1024,
            github_token: String::new(),
            github_token_env: String::new(),
            credentials: Vec::new(),
        }
    }
}

/// One allowed host, with an optional port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    /// Lower case; IPv6 literals without brackets.
    pub host: String,
    pub port: Option<u16>,
}

/// A credential for exactly one `host:port`.
#[derive(Clone, PartialEq, Eq)]
pub struct HostCredential {
    pub host: String,
    pub port: u16,
    /// The `Authorization` header value.
    pub authorization: String,
}

impl std::fmt::Debug for HostCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HostCredential({}:{}, ***)", self.host, self.port)
    }
}

/// Validated `[fetch]`.
#[derive(Clone)]
pub struct FetchConfig {
    pub allow_hosts: Vec<AllowedHost>,
    pub extra_ca_file: Option<PathBuf>,
    pub timeout: Duration,
    pub max_bytes: usize,
    pub github_token: Option<String>,
    pub credentials: Vec<HostCredential>,
}

impl std::fmt::Debug for FetchConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchConfig")
            .field("allow_hosts", &self.allow_hosts)
            .field("extra_ca_file", &self.extra_ca_file)
            .field("timeout", &self.timeout)
            .field("max_bytes", &self.max_bytes)
            .field("github_token", &self.github_token.as_ref().map(|_| "***"))
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl FetchSettings {
    pub fn validate(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<FetchConfig, ConfigError> {
        let allow_hosts = self
            .allow_hosts
            .iter()
            .enumerate()
            .map(|(i, entry)| allowed_host(i, entry))
            .collect::<Result<Vec<_>, _>>()?;
        let extra_ca_file = match self.extra_ca_file.trim() {
            "" => None,
            path if PathBuf::from(path).is_file() => Some(PathBuf::from(path)),
            path => {
                return Err(ConfigError::new(
                    "fetch.extra_ca_file",
                    format!("file {path} does not exist"),
                ));
            }
        };
        if self.max_bytes < 1024 {
            return Err(ConfigError::new("fetch.max_bytes", "must be at least 1024"));
        }
        let github_token = match (self.github_token.trim(), self.github_token_env.trim()) {
            ("", "") => None,
            (token, "") => Some(token.to_owned()),
            ("", name) => Some(env(name).ok_or_else(|| {
                ConfigError::new(
                    "fetch.github_token_env",
                    format!("environment variable {name} is not set"),
                )
            })?),
            _ => {
                return Err(ConfigError::new(
                    "fetch.github_token",
                    "set github_token or github_token_env, not both",
                ));
            }
        };
        let credentials = self
            .credentials
            .iter()
            .enumerate()
            .map(|(i, c)| credential(i, c, &allow_hosts, env))
            .collect::<Result<_, _>>()?;
        Ok(FetchConfig {
            credentials,
            allow_hosts,
            extra_ca_file,
            timeout: duration("fetch.timeout", &self.timeout)?,
            max_bytes: usize::try_from(self.max_bytes)
                .map_err(|_| ConfigError::new("fetch.max_bytes", "is too large"))?,
            github_token,
        })
    }
}

fn allowed_host(i: usize, entry: &str) -> Result<AllowedHost, ConfigError> {
    let invalid = || {
        ConfigError::new(
            format!("fetch.allow_hosts[{i}]"),
            format!("'{entry}' is not a host or host:port"),
        )
    };
    let entry = entry.trim();
    if entry.is_empty() || entry.contains('/') || entry.contains('@') {
        return Err(invalid());
    }
    let url = url::Url::parse(&format!("https://{entry}")).map_err(|_| invalid())?;
    let host = match url.host().ok_or_else(invalid)? {
        url::Host::Domain(name) => name.to_ascii_lowercase(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => ip.to_string(),
    };
    // `Url` drops a port equal to the scheme's default; an explicit `:443` still means 443.
    let port = url.port().or_else(|| {
        entry
            .rsplit_once(':')
            .filter(|(_, p)| *p == "443")
            .map(|_| 443)
    });
    Ok(AllowedHost { host, port })
}

fn credential(
    i: usize,
    settings: &CredentialSettings,
    allowed: &[AllowedHost],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<HostCredential, ConfigError> {
    let setting = |field: &str| format!("fetch.credentials[{i}].{field}");
    let entry = allowed_host(i, &settings.host)
        .map_err(|e| ConfigError::new(setting("host"), e.problem))?;
    let port = entry.port.unwrap_or(443);
    if !allowed
        .iter()
        .any(|a| a.host == entry.host && a.port.is_none_or(|p| p == port))
    {
        return Err(ConfigError::new(
            setting("host"),
            format!("'{}' is not on fetch.allow_hosts", settings.host.trim()),
        ));
    }
    let token = match (settings.token.trim(), settings.token_env.trim()) {
        ("", "") => {
            return Err(ConfigError::new(setting("token"), "set token or token_env"));
        }
        (token, "") => token.to_owned(),
        ("", name) => env(name).filter(|t| !t.trim().is_empty()).ok_or_else(|| {
            ConfigError::new(
                setting("token_env"),
                format!("environment variable {name} is not set"),
            )
        })?,
        _ => {
            return Err(ConfigError::new(
                setting("token"),
                "set token or token_env, not both",
            ));
        }
    };
    let authorization = match settings.username.trim() {
        "" => format!("Bearer {}", token.trim()),
        user => {
            use base64::Engine;
            let pair = format!("{user}:{}", token.trim());
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        }
    };
    Ok(HostCredential {
        host: entry.host,
        port,
        authorization,
    })
}
