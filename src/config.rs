//! Settings are read in layers, each overriding the one before:
//! built-in defaults, the TOML file (`--config` or `FAWKES_PORTAL_CONFIG`), environment variables
//! (`FAWKES_PORTAL_<SECTION>__<KEY>`, e.g. `FAWKES_PORTAL_SERVER__LISTEN`; lists comma-separated or
//! as JSON arrays, see `env`), then command-line flags.
//! The raw [`Settings`] are checked once by [`Settings::validate`] into a typed [`Config`]; every
//! problem names the setting, so a bad value stops the server at start with a message, never a panic.
//! `config/fawkes-portal.example.toml` documents every setting and its default.

// The settings' fields are documented once, where operators read them: the example file.
#![allow(
    missing_docs,
    reason = "config/fawkes-portal.example.toml documents every setting"
)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub mod auth;
pub mod catalog;
mod database;
pub mod dora;
mod env;
pub mod fetch;
pub mod rate_limit;
pub mod server;
pub mod ui;
pub mod workspaces;

pub use auth::AuthConfig;
pub use catalog::CatalogConfig;
use database::database_url;
pub use database::{DatabaseConfig, DatabaseSettings, DatabaseUrl, redact_url};
pub use dora::DoraConfig;
pub use rate_limit::RateLimitConfig;
pub use ui::UiConfig;
pub use workspaces::WorkspacesConfig;

/// The environment variable naming the configuration file.
pub const CONFIG_PATH_ENV: &str = "FAWKES_PORTAL_CONFIG";
/// Prefix of every setting's environment variable.
pub const ENV_PREFIX: &str = "FAWKES_PORTAL";
/// The SQLite file created in the data directory when no database URL is configured.
pub const SQLITE_FILE: &str = "fawkes-portal.db";

/// A configuration problem: which setting (or file) and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {setting}: {problem}")]
pub struct ConfigError {
    pub setting: String,
    pub problem: String,
}

impl ConfigError {
    pub(crate) fn new(setting: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            setting: setting.into(),
            problem: problem.into(),
        }
    }
}

/// Settings as written by the operator, before validation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Directory for the SQLite database and other local state.
    pub data_dir: String,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub auth: auth::AuthSettings,
    pub rate_limit: rate_limit::RateLimitSettings,
    pub workspaces: workspaces::WorkspacesSettings,
    pub fetch: fetch::FetchSettings,
    pub dora: dora::DoraSettings,
    pub catalog: catalog::CatalogSettings,
    pub ui: ui::UiSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: String,
    pub max_body_bytes: u64,
    pub request_timeout: String,
    pub shutdown_timeout: String,
    /// Browser origins allowed to call the API (CORS); `*` for any. Empty: no CORS headers.
    pub cors_origins: Vec<String>,
    /// The path the API is reached under from outside (a proxy's prefix such as
    /// `/api/proxy/fawkes-portal`); empty when served at the root.
    pub public_base_path: String,
    /// Time a client has to send a request head: from accepting the connection, or from the
    /// first byte of the next request on a kept-alive one.
    pub header_read_timeout: String,
    /// How long a connection with no request in progress stays open.
    pub keep_alive_timeout: String,
    /// Most connections open at once; at the cap the oldest idle one is closed for a new one.
    pub max_connections: u64,
    /// Largest request head (request line and headers); past it, 431.
    pub max_header_bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `text` (readable on a terminal) or `json` (one object per line).
    pub format: String,
    /// A tracing filter such as `info` or `fawkes_portal=debug,info`; `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: "./data".into(),
            server: ServerSettings::default(),
            database: DatabaseSettings::default(),
            log: LogSettings::default(),
            auth: auth::AuthSettings::default(),
            rate_limit: rate_limit::RateLimitSettings::default(),
            workspaces: workspaces::WorkspacesSettings::default(),
            fetch: fetch::FetchSettings::default(),
            dora: dora::DoraSettings::default(),
            catalog: catalog::CatalogSettings::default(),
            ui: ui::UiSettings::default(),
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:7007".into(),
            max_body_bytes: 1024 * 1024,
            request_timeout: "60s".into(),
            shutdown_timeout: "30s".into(),
            cors_origins: Vec::new(),
            public_base_path: String::new(),
            header_read_timeout: "10s".into(),
            keep_alive_timeout: "60s".into(),
            max_connections: 4096,
            max_header_bytes: 64 * 1024,
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: "text".into(),
            level: "info".into(),
        }
    }
}

/// Flags given on the command line; they override every other layer.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<String>,
    pub log_format: Option<String>,
}

/// Validated configuration, as the rest of the server uses it.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub log: LogConfig,
    pub auth: AuthConfig,
    pub rate_limit: RateLimitConfig,
    pub workspaces: WorkspacesConfig,
    pub fetch: fetch::FetchConfig,
    pub dora: DoraConfig,
    pub catalog: CatalogConfig,
    pub ui: UiConfig,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub shutdown_timeout: Duration,
    pub cors: server::Cors,
    /// Empty, or a path such as `/api/proxy/fawkes-portal` (leading slash, no trailing one).
    pub public_base_path: String,
    pub header_read_timeout: Duration,
    pub keep_alive_timeout: Duration,
    pub max_connections: usize,
    pub max_header_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

impl Settings {
    /// Reads the layers: defaults, then `path` (if any), then the given environment, then `overrides`.
    /// `env` is passed in (rather than read here) so tests do not race on the process environment.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &Overrides,
    ) -> Result<Settings, ConfigError> {
        let mut builder = config::Config::builder().add_source(
            config::Config::try_from(&Settings::default())
                .map_err(|e| ConfigError::new("defaults", e.to_string()))?,
        );
        if let Some(path) = path {
            if !path.is_file() {
                return Err(ConfigError::new(
                    CONFIG_PATH_ENV,
                    format!("configuration file {} does not exist", path.display()),
                ));
            }
            builder = builder.add_source(
                config::File::from(path)
                    .format(config::FileFormat::Toml)
                    .required(true),
            );
        }
        let env = env::read(env)?;
        builder = builder
            .add_source(
                config::Environment::with_prefix(ENV_PREFIX)
                    .prefix_separator("_")
                    .separator("__")
                    .try_parsing(true)
                    .source(Some(env.scalars)),
            )
            .add_source(env.structured);
        let set = |builder: config::ConfigBuilder<_>, key: &str, value: &Option<String>| match value
        {
            Some(v) => builder.set_override(key, v.as_str()),
            None => Ok(builder),
        };
        let builder = set(builder, "server.listen", &overrides.listen)
            .and_then(|b| set(b, "data_dir", &overrides.data_dir))
            .and_then(|b| set(b, "log.format", &overrides.log_format))
            .map_err(|e| ConfigError::new("command line", e.to_string()))?;
        let layered = builder.build().map_err(from_config_crate)?;
        layered
            .try_deserialize::<Settings>()
            .map_err(from_config_crate)
    }

    /// Checks every setting and converts it to its typed form; `token_env` names are looked up in
    /// the process environment.
    pub fn validate(&self) -> Result<Config, ConfigError> {
        self.validate_with_env(&|name| std::env::var(name).ok())
    }

    /// As [`Settings::validate`], looking environment variables up with `env`.
    pub fn validate_with_env(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        if self.data_dir.trim().is_empty() {
            return Err(ConfigError::new("data_dir", "must not be empty"));
        }
        let data_dir = PathBuf::from(&self.data_dir);
        let listen = self.server.listen.parse::<SocketAddr>().map_err(|_| {
            ConfigError::new(
                "server.listen",
                format!(
                    "'{}' is not an address with a port, such as 127.0.0.1:7007",
                    self.server.listen
                ),
            )
        })?;
        if self.server.max_body_bytes < 1024 {
            return Err(ConfigError::new(
                "server.max_body_bytes",
                format!(
                    "{} is too small; use at least 1024 bytes",
                    self.server.max_body_bytes
                ),
            ));
        }
        let max_body_bytes = usize::try_from(self.server.max_body_bytes)
            .map_err(|_| ConfigError::new("server.max_body_bytes", "is too large"))?;
        let format = match self.log.format.as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::new(
                    "log.format",
                    format!("'{other}' is not one of: text, json"),
                ));
            }
        };
        if self.database.max_connections == 0 {
            return Err(ConfigError::new(
                "database.max_connections",
                "must be at least 1",
            ));
        }
        let request_timeout = duration("server.request_timeout", &self.server.request_timeout)?;
        Ok(Config {
            server: ServerConfig {
                listen,
                max_body_bytes,
                request_timeout,
                shutdown_timeout: duration(
                    "server.shutdown_timeout",
                    &self.server.shutdown_timeout,
                )?,
                cors: server::cors(&self.server.cors_origins)?,
                public_base_path: server::base_path(&self.server.public_base_path)?,
                header_read_timeout: duration(
                    "server.header_read_timeout",
                    &self.server.header_read_timeout,
                )?,
                keep_alive_timeout: duration(
                    "server.keep_alive_timeout",
                    &self.server.keep_alive_timeout,
                )?,
                max_connections: bounded(
                    "server.max_connections",
                    self.server.max_connections,
                    1..=1_000_000,
                )?,
                max_header_bytes: bounded(
                    "server.max_header_bytes",
                    self.server.max_header_bytes,
                    8192..=16 * 1024 * 1024,
                )?,
            },
            database: DatabaseConfig {
                url: database_url(&self.database.url, &data_dir)?,
                max_connections: self.database.max_connections,
                acquire_timeout: duration(
                    "database.acquire_timeout",
                    &self.database.acquire_timeout,
                )?,
                // A request past its timeout must not leave its statement running.
                statement_timeout: duration(
                    "database.statement_timeout",
                    &self.database.statement_timeout,
                )?
                .min(request_timeout),
                per_principal: self.database.per_principal()?,
                sqlite_full_sync: match self.database.sqlite_synchronous.as_str() {
                    "normal" => false,
                    "full" => true,
                    other => {
                        return Err(ConfigError::new(
                            "database.sqlite_synchronous",
                            format!("'{other}' is not one of: normal, full"),
                        ));
                    }
                },
            },
            log: LogConfig {
                format,
                level: self.log.level.clone(),
            },
            auth: self.auth.validate(env)?,
            rate_limit: self.rate_limit.validate()?,
            workspaces: self.workspaces.validate()?,
            fetch: self.fetch.validate(env)?,
            dora: self.dora.validate()?,
            catalog: self.catalog.validate()?,
            ui: self.ui.validate(
                listen,
                &server::base_path(&self.server.public_base_path)?,
                env,
            )?,
            data_dir,
        })
    }

    /// The effective settings as TOML, with secrets (the database password) replaced by `***`.
    pub fn to_redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database.url = redact_url(&shown.database.url);
        shown.rate_limit.redis_url = redact_url(&shown.rate_limit.redis_url);
        shown.dora.devlake.database_url = redact_url(&shown.dora.devlake.database_url);
        if !shown.fetch.github_token.is_empty() {
            shown.fetch.github_token = "***".into();
        }
        for secret in [
            &mut shown.ui.oidc.client_secret,
            &mut shown.ui.github.client_secret,
        ] {
            if !secret.is_empty() {
                *secret = "***".into();
            }
        }
        for credential in &mut shown.fetch.credentials {
            if !credential.token.is_empty() {
                credential.token = "***".into();
            }
        }
        for token in &mut shown.auth.static_tokens {
            if !token.token.is_empty() {
                token.token = "***".into();
            }
        }
        toml::to_string_pretty(&shown)
            .unwrap_or_else(|e| format!("# cannot render settings: {e}\n"))
    }
}

impl Config {
    /// Loads and validates in one step, as `serve`, `migrate` and tests do.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &Overrides,
    ) -> Result<Config, ConfigError> {
        let env: std::collections::HashMap<String, String> = env.into_iter().collect();
        let settings = Settings::load(path, env.clone(), overrides)?;
        settings.validate_with_env(&|name| env.get(name).cloned())
    }

    /// Defaults with the data directory (and so the SQLite file) at `data_dir`; for tests and tools.
    pub fn with_data_dir(data_dir: &Path) -> Config {
        let settings = Settings {
            data_dir: data_dir.display().to_string(),
            ..Settings::default()
        };
        settings.validate().expect("default settings are valid")
    }
}

pub(crate) fn duration(setting: &str, value: &str) -> Result<Duration, ConfigError> {
    let parsed = humantime::parse_duration(value.trim()).map_err(|e| {
        ConfigError::new(
            setting,
            format!("'{value}' is not a duration such as 30s or 5m ({e})"),
        )
    })?;
    if parsed.is_zero() {
        return Err(ConfigError::new(setting, "must be longer than zero"));
    }
    Ok(parsed)
}

/// `value` as a `usize` within `range`, or a message naming the setting.
fn bounded(
    setting: &str,
    value: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<usize, ConfigError> {
    if !range.contains(&value) {
        return Err(ConfigError::new(
            setting,
            format!(
                "{value} is out of range: use {} to {}",
                range.start(),
                range.end()
            ),
        ));
    }
    usize::try_from(value).map_err(|_| ConfigError::new(setting, "is too large"))
}

fn from_config_crate(err: config::ConfigError) -> ConfigError {
    match err {
        config::ConfigError::FileParse { uri, cause } => ConfigError::new(
            uri.unwrap_or_else(|| "configuration file".into()),
            format!("not valid TOML: {cause}"),
        ),
        config::ConfigError::Type {
            origin,
            unexpected,
            expected,
            key,
        } => ConfigError::new(
            key.unwrap_or_else(|| "setting".into()),
            format!(
                "expected {expected}, found {unexpected}{}",
                origin.map(|o| format!(" (in {o})")).unwrap_or_default()
            ),
        ),
        config::ConfigError::At { error, origin, key } => {
            let inner = from_config_crate(*error);
            let setting = match key {
                // An unknown key is reported by its section; name the key in full.
                Some(section) if inner.problem.starts_with("unknown setting") => {
                    format!("{section}.{}", inner.setting)
                }
                Some(key) => key,
                None => inner.setting,
            };
            let problem = match origin {
                Some(origin) => format!("{} (in {origin})", inner.problem),
                None => inner.problem,
            };
            ConfigError::new(setting, problem)
        }
        config::ConfigError::Message(message) => unknown_field_message(&message)
            .unwrap_or_else(|| ConfigError::new("configuration", message)),
        other => ConfigError::new("configuration", other.to_string()),
    }
}

/// serde's "unknown field `x`, expected one of ..." becomes a message naming the bad key.
fn unknown_field_message(message: &str) -> Option<ConfigError> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, tail) = rest.split_once('`')?;
    let expected = tail.trim_start_matches(',').trim();
    Some(ConfigError::new(
        field,
        format!("unknown setting; {expected}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_are_valid_and_use_sqlite_in_the_data_dir() {
        let config = Config::load(None, env(&[]), &Overrides::default()).unwrap();
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:7007");
        assert_eq!(
            config.database.url,
            DatabaseUrl::Sqlite(PathBuf::from("./data/fawkes-portal.db"))
        );
        assert_eq!(config.server.max_body_bytes, 1024 * 1024);
        assert_eq!(config.server.shutdown_timeout, Duration::from_secs(30));
    }

    #[test]
    fn redacts_database_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@db:5432/x"),
            "postgres://u:***@db:5432/x"
        );
        assert_eq!(redact_url("postgres://db/x"), "postgres://db/x");
    }

    #[test]
    fn rejects_a_database_url_of_another_kind() {
        let mut settings = Settings::default();
        settings.database.url = "mysql://u:pw@db/x".into();
        let err = settings.validate().unwrap_err();
        assert_eq!(err.setting, "database.url");
        assert!(!err.to_string().contains("pw@"), "{err}");
    }
}
