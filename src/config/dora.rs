//! `[dora]`: the DevLake plugin's defaults, and which projects make up each team until the
//! catalog can say.

use std::collections::BTreeMap;

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
    /// Team name -> the projects (DevLake project names) it owns.
    pub teams: BTreeMap<String, Vec<String>>,
}

impl Default for DoraSettings {
    fn default() -> Self {
        Self {
            default_benchmark: "2023".into(),
            teams: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct DoraConfig {
    pub default_benchmark: Benchmark,
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
        Ok(DoraConfig {
            default_benchmark,
            teams,
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
        let env = [(
            "FAWKES_PORTAL_DORA__DEFAULT_BENCHMARK".to_owned(),
            "2023".to_owned(),
        )];
        let config =
            crate::config::Config::load(Some(&path), env, &crate::config::Overrides::default())
                .unwrap();
        assert_eq!(config.dora.default_benchmark, Benchmark::Dora2023);
        assert_eq!(config.dora.teams["platform-team"], ["api", "web"]);
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
}
