//! `[dora]`: the DevLake plugin's defaults, where its facts come from (its own webhooks, a running
//! Apache DevLake's database, or both), and which projects make up each team until the catalog
//! can say.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// Which State of DevOps report's benchmarks rate the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Benchmark {
    /// 2021 Accelerate State of DevOps: the fourth metric is the median time to restore service.
    Dora2021,
    /// 2023 Accelerate State of DevOps (the default): the fourth metric is the failed deployment
    /// recovery time.
    #[default]
    Dora2023,
}

impl Benchmark {
    pub fn parse(text: &str) -> Option<Benchmark> {
        match text {
            "2021" => Some(Benchmark::Dora2021),
            "2023" => Some(Benchmark::Dora2023),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Benchmark::Dora2021 => "2021",
            Benchmark::Dora2023 => "2023",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DoraSettings {
    /// The DORA report rating the metrics when a request names none: `2023` or `2021`.
    pub default_benchmark: String,
    /// Where the facts come from: `webhooks`, `devlake` or `both`.
    pub source: String,
    /// Team name -> the projects (DevLake project names) it owns.
    pub teams: BTreeMap<String, Vec<String>>,
    pub devlake: DevLakeSettings,
}

impl Default for DoraSettings {
    fn default() -> Self {
        Self {
            default_benchmark: "2023".into(),
            source: "webhooks".into(),
            teams: BTreeMap::new(),
            devlake: DevLakeSettings::default(),
        }
    }
}

/// `[dora.devlake]`: the DevLake database read when `source` is `devlake` or `both`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DevLakeSettings {
    /// `mysql://USER:PASSWORD@HOST:PORT/DATABASE` (MySQL 8 or MariaDB).
    pub database_url: String,
    pub max_connections: u32,
    /// How long one read may take, waiting for a connection included.
    pub timeout: String,
}

impl Default for DevLakeSettings {
    fn default() -> Self {
        Self {
            database_url: String::new(),
            max_connections: 8,
            timeout: "10s".into(),
        }
    }
}

/// Where DORA facts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    /// This server's own DevLake-compatible webhooks (the default).
    #[default]
    Webhooks,
    /// A running Apache DevLake's database; the webhook routes refuse posts.
    DevLake,
    /// Both: a project DevLake knows is read from DevLake, any other from the webhooks.
    Both,
}

impl Source {
    /// Whether the webhook routes store what is posted.
    pub fn takes_webhooks(self) -> bool {
        self != Source::DevLake
    }
}

/// The DevLake database, validated.
#[derive(Clone)]
pub struct DevLakeConfig {
    /// A `mysql://` URL (password included: never log it; see [`DevLakeConfig::shown_url`]).
    pub url: String,
    pub max_connections: u32,
    pub timeout: Duration,
}

impl DevLakeConfig {
    /// The URL with its password replaced by `***`.
    pub fn shown_url(&self) -> String {
        super::redact_url(&self.url)
    }
}

impl std::fmt::Debug for DevLakeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevLakeConfig")
            .field("url", &self.shown_url())
            .field("max_connections", &self.max_connections)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[derive(Debug, Clone, Default)]
pub struct DoraConfig {
    pub default_benchmark: Benchmark,
    pub source: Source,
    /// Set when `source` is `devlake` or `both`.
    pub devlake: Option<DevLakeConfig>,
    /// Team -> projects, as configured (validated: no blank names, no project in two teams).
    pub teams: BTreeMap<String, Vec<String>>,
}

impl DoraSettings {
    pub fn validate(&self) -> Result<DoraConfig, ConfigError> {
        let default_benchmark =
            Benchmark::parse(self.default_benchmark.trim()).ok_or_else(|| {
                ConfigError::new(
                    "dora.default_benchmark",
                    format!("'{}' is not one of: 2023, 2021", self.default_benchmark),
                )
            })?;
        let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
        let mut teams = BTreeMap::new();
        for (team, projects) in &self.teams {
            let setting = format!("dora.teams.{team}");
            if team.trim().is_empty() {
                return Err(ConfigError::new("dora.teams", "a team name is empty"));
            }
            let mut names = Vec::new();
            for project in projects {
                let project = project.trim();
                if project.is_empty() {
                    return Err(ConfigError::new(setting, "a project name is empty"));
                }
                if let Some(other) = owner.insert(project, team) {
                    return Err(ConfigError::new(
                        setting,
                        format!(
                            "project '{project}' is already in team '{other}'; a project has one team"
                        ),
                    ));
                }
                names.push(project.to_owned());
            }
            teams.insert(team.trim().to_owned(), names);
        }
        let source = match self.source.trim() {
            "webhooks" => Source::Webhooks,
            "devlake" => Source::DevLake,
            "both" => Source::Both,
            other => {
                return Err(ConfigError::new(
                    "dora.source",
                    format!("'{other}' is not one of: webhooks, devlake, both"),
                ));
            }
        };
        let devlake = match source {
            Source::Webhooks => None,
            Source::DevLake | Source::Both => Some(self.devlake.validate()?),
        };
        Ok(DoraConfig {
            default_benchmark,
            source,
            devlake,
            teams,
        })
    }
}

impl DevLakeSettings {
    fn validate(&self) -> Result<DevLakeConfig, ConfigError> {
        let setting = "dora.devlake.database_url";
        let url = self.database_url.trim();
        if url.is_empty() {
            return Err(ConfigError::new(
                setting,
                "dora.source reads DevLake: give DevLake's database, e.g. \
                 mysql://reader:PASSWORD@devlake-mysql:3306/lake",
            ));
        }
        let parsed = url::Url::parse(url).map_err(|e| {
            ConfigError::new(
                setting,
                format!("'{}' is not a valid URL: {e}", super::redact_url(url)),
            )
        })?;
        if !matches!(parsed.scheme(), "mysql" | "mariadb") {
            return Err(ConfigError::new(
                setting,
                format!(
                    "'{}' must start with mysql:// (MySQL 8 or MariaDB)",
                    super::redact_url(url)
                ),
            ));
        }
        if parsed.path().trim_matches('/').is_empty() {
            return Err(ConfigError::new(
                setting,
                "name DevLake's database in the URL's path, e.g. mysql://HOST:3306/lake",
            ));
        }
        if self.max_connections == 0 {
            return Err(ConfigError::new(
                "dora.devlake.max_connections",
                "must be at least 1",
            ));
        }
        Ok(DevLakeConfig {
            url: url.to_owned(),
            max_connections: self.max_connections,
            timeout: super::duration("dora.devlake.timeout", &self.timeout)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teams_load_from_the_file_and_the_environment() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("portal.toml");
        std::fs::write(
            &path,
            "[dora]\ndefault_benchmark = \"2021\"\n[dora.teams]\nplatform-team = [\"api\", \"web\"]\n",
        )
        .unwrap();
        let env = [
            ("FAWKES_PORTAL_DORA__DEFAULT_BENCHMARK", "2023"),
            ("FAWKES_PORTAL_DORA__SOURCE", "both"),
            (
                "FAWKES_PORTAL_DORA__DEVLAKE__DATABASE_URL",
                "mysql://reader:pw@devlake-mysql:3306/lake",
            ),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let config =
            crate::config::Config::load(Some(&path), env, &crate::config::Overrides::default())
                .unwrap();
        assert_eq!(config.dora.default_benchmark, Benchmark::Dora2023);
        assert_eq!(config.dora.teams["platform-team"], ["api", "web"]);
        assert_eq!(config.dora.source, Source::Both);
        assert_eq!(
            config.dora.devlake.unwrap().url,
            "mysql://reader:pw@devlake-mysql:3306/lake"
        );
    }

    #[test]
    fn validates_benchmark_and_teams() {
        let mut settings = DoraSettings::default();
        assert_eq!(
            settings.validate().unwrap().default_benchmark,
            Benchmark::Dora2023
        );
        settings.default_benchmark = "2019".into();
        assert_eq!(
            settings.validate().unwrap_err().setting,
            "dora.default_benchmark"
        );

        let mut settings = DoraSettings::default();
        settings.teams.insert("a".into(), vec!["svc".into()]);
        settings.teams.insert("b".into(), vec!["svc".into()]);
        let err = settings.validate().unwrap_err();
        assert_eq!(err.setting, "dora.teams.b");
        assert!(err.problem.contains("already in team 'a'"), "{err}");

        let mut settings = DoraSettings::default();
        settings.teams.insert("a".into(), vec![" ".into()]);
        assert_eq!(settings.validate().unwrap_err().setting, "dora.teams.a");
    }

    #[test]
    fn validates_the_source_and_the_devlake_database() {
        let settings = DoraSettings::default();
        let config = settings.validate().unwrap();
        assert_eq!(config.source, Source::Webhooks);
        assert!(config.devlake.is_none());

        let mut settings = DoraSettings {
            source: "devlake".into(),
            ..DoraSettings::default()
        };
        let err = settings.validate().unwrap_err();
        assert_eq!(err.setting, "dora.devlake.database_url");
        settings.devlake.database_url = "postgres://db/lake".into();
        assert!(
            settings
                .validate()
                .unwrap_err()
                .problem
                .contains("mysql://")
        );
        settings.devlake.database_url = "mysql://reader:secret@devlake-mysql:3306".into();
        assert!(settings.validate().unwrap_err().problem.contains("path"));
        settings.devlake.database_url = "mysql://reader:secret@devlake-mysql:3306/lake".into();
        settings.devlake.timeout = "0s".into();
        assert_eq!(
            settings.validate().unwrap_err().setting,
            "dora.devlake.timeout"
        );
        settings.devlake.timeout = "3s".into();
        let config = settings.validate().unwrap();
        let devlake = config.devlake.unwrap();
        assert_eq!(devlake.timeout, Duration::from_secs(3));
        // The password never shows, not even in debug output.
        let shown = format!("{devlake:?}");
        assert!(
            !shown.contains("secret") && shown.contains("***"),
            "{shown}"
        );
        assert!(!config.source.takes_webhooks());

        settings.source = "both".into();
        assert!(settings.validate().unwrap().source.takes_webhooks());
        settings.source = "grafana".into();
        assert_eq!(settings.validate().unwrap_err().setting, "dora.source");
    }
}
