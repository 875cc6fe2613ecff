//! Which projects exist and which team each belongs to. The metric code asks a
//! [`ProjectDirectory`] and never knows where the answer comes from: today the `[dora.teams]`
//! configuration ([`ConfiguredTeams`]); once the catalog plugin lands, a catalog-backed
//! directory (project = the entity's `devlake.apache.org/project-name` annotation, else its
//! `metadata.name`; team = its `app.fawkes.idp/team` label, else the `devlake.apache.org/team`
//! annotation, else its owner), falling back to the configuration for projects not in the catalog.

use std::collections::BTreeMap;

use async_trait::async_trait;

/// Projects and teams, as far as the directory knows them. Projects that only ever posted
/// webhooks are known to the store, not necessarily here.
#[async_trait]
pub trait ProjectDirectory: Send + Sync + 'static {
    /// Whether the directory knows `project`.
    async fn has_project(&self, project: &str) -> anyhow::Result<bool>;
    /// The team `project` belongs to, if the directory knows one.
    async fn team_of(&self, project: &str) -> anyhow::Result<Option<String>>;
    /// The projects of `team`; `None` when the team is unknown.
    async fn projects_of(&self, team: &str) -> anyhow::Result<Option<Vec<String>>>;
    /// Every project the directory knows.
    async fn projects(&self) -> anyhow::Result<Vec<String>>;
}

/// The `[dora.teams]` mapping: team -> projects.
#[derive(Debug, Clone, Default)]
pub struct ConfiguredTeams {
    teams: BTreeMap<String, Vec<String>>,
    team_of: BTreeMap<String, String>,
}

impl ConfiguredTeams {
    pub fn new(teams: BTreeMap<String, Vec<String>>) -> Self {
        let team_of = teams
            .iter()
            .flat_map(|(team, projects)| projects.iter().map(|p| (p.clone(), team.clone())))
            .collect();
        Self { teams, team_of }
    }
}

#[async_trait]
impl ProjectDirectory for ConfiguredTeams {
    async fn has_project(&self, project: &str) -> anyhow::Result<bool> {
        Ok(self.team_of.contains_key(project))
    }

    async fn team_of(&self, project: &str) -> anyhow::Result<Option<String>> {
        Ok(self.team_of.get(project).cloned())
    }

    async fn projects_of(&self, team: &str) -> anyhow::Result<Option<Vec<String>>> {
        Ok(self.teams.get(team).cloned())
    }

    async fn projects(&self) -> anyhow::Result<Vec<String>> {
        Ok(self.team_of.keys().cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_from_the_mapping() {
        let directory = ConfiguredTeams::new(BTreeMap::from([(
            "platform".to_owned(),
            vec!["api".to_owned(), "web".to_owned()],
        )]));
        assert!(directory.has_project("api").await.unwrap());
        assert!(!directory.has_project("other").await.unwrap());
        assert_eq!(
            directory.team_of("web").await.unwrap().as_deref(),
            Some("platform")
        );
        assert_eq!(directory.team_of("other").await.unwrap(), None);
        assert_eq!(
            directory.projects_of("platform").await.unwrap().unwrap(),
            ["api", "web"]
        );
        assert_eq!(directory.projects_of("nobody").await.unwrap(), None);
        assert_eq!(directory.projects().await.unwrap(), ["api", "web"]);
    }
}
