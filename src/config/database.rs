//! `[database]`: the settings, what they validate into, and the database URL rules (SQLite path
//! or file URL, PostgreSQL URL, password hidden when shown).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ConfigError, SQLITE_FILE};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Empty: SQLite in the data directory. Otherwise `sqlite://PATH` or `postgres://...`.
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout: String,
    /// Longest one SQL statement may run before it is cancelled (SQLite reads, every PostgreSQL
    /// statement but migrations); `server.request_timeout` when that is shorter.
    pub statement_timeout: String,
    /// Most of the connection pool one principal's requests may hold at once (0 < share <= 1).
    pub max_principal_share: f64,
    /// SQLite's `synchronous`: `normal` (the default) or `full`.
    pub sqlite_synchronous: String,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_connections: 10,
            acquire_timeout: "5s".into(),
            statement_timeout: "60s".into(),
            max_principal_share: 0.5,
            sqlite_synchronous: "normal".into(),
        }
    }
}

impl DatabaseSettings {
    /// `max_principal_share` of the pool, in connections (at least one).
    pub(super) fn per_principal(&self) -> Result<usize, ConfigError> {
        let share = self.max_principal_share;
        if !(share > 0.0 && share <= 1.0) {
            return Err(ConfigError::new(
                "database.max_principal_share",
                format!("{share} is not a share of the pool: use a number above 0 and at most 1"),
            ));
        }
        let connections = (f64::from(self.max_connections) * share).floor() as usize;
        Ok(connections.max(1))
    }
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: DatabaseUrl,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    pub statement_timeout: Duration,
    /// Connections one principal's requests may hold at once (at least 1).
    pub per_principal: usize,
    /// SQLite's `synchronous = FULL` instead of `NORMAL`.
    pub sqlite_full_sync: bool,
}

/// Which database, decided by the URL's scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

pub(super) fn database_url(url: &str, data_dir: &Path) -> Result<DatabaseUrl, ConfigError> {
    let url = url.trim();
    if url.is_empty() {
        return Ok(DatabaseUrl::Sqlite(data_dir.join(SQLITE_FILE)));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        url::Url::parse(url).map_err(|e| {
            ConfigError::new(
                "database.url",
                format!("'{}' is not a valid URL: {e}", redact_url(url)),
            )
        })?;
        return Ok(DatabaseUrl::Postgres(url.to_owned()));
    }
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err(ConfigError::new(
                "database.url",
                "a sqlite URL needs a file path, e.g. sqlite://data/portal.db",
            ));
        }
        return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
    }
    Err(ConfigError::new(
        "database.url",
        format!(
            "'{}' must start with postgres://, postgresql:// or sqlite://",
            redact_url(url)
        ),
    ))
}

/// Hides the password of a URL, if it has one.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
