//! Which projects exist and which team each belongs to. The metric code asks a
//! [`ProjectDirectory`] and never knows where the answer comes from: the catalog
//! ([`CatalogProjects`]: project = a Component, or any entity with the
//! `devlake.apache.org/project-name` annotation, named by that annotation else its
//! `metadata.name`; team = its `app.fawkes.idp/team` label, else the `devlake.apache.org/team`
//! annotation, else its owner), falling back to the `[dora.teams]` configuration
//! ([`ConfiguredTeams`]) for projects not in the catalog.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

/// The software catalog as this plugin reads it. The composition root implements it over the
/// catalog's service, so neither feature imports the other.
#[async_trait]
pub trait CatalogEntities: Send + Sync + 'static {
    /// A number that changes with every change to entities, when this process makes them all;
    /// `None` when other replicas may write too (then answers are re-read after a while).
    fn version(&self) -> Option<u64>;
    /// `(entity uid, key, original value)` of every value of these (lower-case) search keys.
    async fn values_of(&self, keys: &[&str]) -> anyhow::Result<Vec<(String, String, String)>>;
}

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
    /// Every team the directory knows, sorted.
    async fn teams(&self) -> anyhow::Result<Vec<String>>;
}

/// The `[dora.teams]` mapping: team -> projects.
#[derive(Debug, Clone, Default)]
pub struct ConfiguredTeams {
    teams: BTreeMap<String, Vec<String>>,
    team_of: BTreeMap<String, String>,
}

impl ConfiguredTeams {
    /// The mapping of `[dora.teams]`: team -> its projects.
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

    async fn teams(&self) -> anyhow::Result<Vec<String>> {
        Ok(self.teams.keys().cloned().collect())
    }
}

/// The search keys a project's name and team are read from (lower-case, as the catalog indexes them).
const KIND: &str = "kind";
const NAME: &str = "metadata.name";
const PROJECT_NAME: &str = "metadata.annotations.devlake.apache.org/project-name";
const TEAM_LABEL: &str = "metadata.labels.app.fawkes.idp/team";
const TEAM_ANNOTATION: &str = "metadata.annotations.devlake.apache.org/team";
const OWNER: &str = "spec.owner";

/// Projects and teams from the catalog, with the configured mapping for projects the catalog does
/// not list. Re-read after every catalog change when the store can tell (SQLite: this process makes
/// every change), else at most every `max_age`.
pub struct CatalogProjects {
    catalog: Arc<dyn CatalogEntities>,
    fallback: ConfiguredTeams,
    max_age: Duration,
    cached: tokio::sync::Mutex<Option<Cached>>,
}

struct Cached {
    at: Instant,
    version: Option<u64>,
    teams: Arc<ConfiguredTeams>,
}

impl CatalogProjects {
    /// Projects and teams read from `catalog`, with `fallback` for projects it does not list, read again after every catalog change (when the catalog can tell) or after `max_age`.
    pub fn new(
        catalog: Arc<dyn CatalogEntities>,
        fallback: ConfiguredTeams,
        max_age: Duration,
    ) -> Self {
        Self {
            catalog,
            fallback,
            max_age,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// The catalog's projects and teams, as a mapping.
    async fn catalog_teams(&self) -> anyhow::Result<Arc<ConfiguredTeams>> {
        let mut cached = self.cached.lock().await;
        let version = self.catalog.version();
        if let Some(c) = cached.as_ref() {
            let fresh = match version {
                Some(v) => c.version == Some(v),
                None => c.at.elapsed() < self.max_age,
            };
            if fresh {
                return Ok(c.teams.clone());
            }
        }
        let rows = self.catalog.values_of(&PROJECT_KEYS).await?;
        let mut entities: HashMap<String, HashMap<String, String>> = HashMap::new();
        for (uid, key, value) in rows {
            entities.entry(uid).or_default().insert(key, value);
        }
        let mut teams: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for values in entities.values() {
            if let Some((project, Some(team))) = project_and_team(values) {
                teams.entry(team).or_default().push(project);
            }
        }
        for projects in teams.values_mut() {
            projects.sort();
            projects.dedup();
        }
        let teams = Arc::new(ConfiguredTeams::new(teams));
        *cached = Some(Cached {
            at: Instant::now(),
            version,
            teams: teams.clone(),
        });
        Ok(teams)
    }
}

/// The project an entity's values (search keys to original values) make, and its team: the
/// project is the `devlake.apache.org/project-name` annotation, else a Component's name; the
/// team is the `app.fawkes.idp/team` label, else the `devlake.apache.org/team` annotation, else
/// the owner's name.
fn project_and_team(values: &HashMap<String, String>) -> Option<(String, Option<String>)> {
    let is_component = values
        .get(KIND)
        .is_some_and(|k| k.eq_ignore_ascii_case("component"));
    let project = values
        .get(PROJECT_NAME)
        .or(is_component.then(|| values.get(NAME)).flatten())?;
    let team = values
        .get(TEAM_LABEL)
        .or_else(|| values.get(TEAM_ANNOTATION))
        .cloned()
        .or_else(|| values.get(OWNER).map(|owner| team_name(owner)));
    Some((project.clone(), team))
}

/// The catalog search keys (lower-case) the directory reads a project and its team from.
pub const PROJECT_KEYS: [&str; 6] = [KIND, NAME, PROJECT_NAME, TEAM_LABEL, TEAM_ANNOTATION, OWNER];

/// The project of one catalog entity, given its values of [`PROJECT_KEYS`] (search key to
/// original value), by the same rule the directory reads the whole catalog with.
pub fn project_of(values: &HashMap<String, String>) -> Option<String> {
    project_and_team(values).map(|(project, _)| project)
}

/// An owner ref's name: `group:default/team-a` and `team-a` are both team `team-a`.
fn team_name(owner: &str) -> String {
    let name = owner.rsplit_once(':').map_or(owner, |(_, rest)| rest);
    name.rsplit_once('/').map_or(name, |(_, n)| n).to_owned()
}

#[async_trait]
impl ProjectDirectory for CatalogProjects {
    async fn has_project(&self, project: &str) -> anyhow::Result<bool> {
        Ok(self.catalog_teams().await?.has_project(project).await?
            || self.fallback.has_project(project).await?)
    }

    async fn team_of(&self, project: &str) -> anyhow::Result<Option<String>> {
        let catalog = self.catalog_teams().await?;
        if catalog.has_project(project).await? {
            return catalog.team_of(project).await;
        }
        self.fallback.team_of(project).await
    }

    async fn projects_of(&self, team: &str) -> anyhow::Result<Option<Vec<String>>> {
        let catalog = self.catalog_teams().await?;
        let in_catalog = catalog.projects_of(team).await?;
        // Configured projects of the team that the catalog does not place elsewhere.
        let mut configured = Vec::new();
        for project in self.fallback.projects_of(team).await?.unwrap_or_default() {
            if !catalog.has_project(&project).await? {
                configured.push(project);
            }
        }
        if in_catalog.is_none() && configured.is_empty() {
            return Ok(None);
        }
        let all: BTreeSet<String> = in_catalog.into_iter().flatten().chain(configured).collect();
        Ok(Some(all.into_iter().collect()))
    }

    async fn teams(&self) -> anyhow::Result<Vec<String>> {
        let mut all: BTreeSet<String> = self
            .catalog_teams()
            .await?
            .teams()
            .await?
            .into_iter()
            .collect();
        all.extend(self.fallback.teams().await?);
        Ok(all.into_iter().collect())
    }

    async fn projects(&self) -> anyhow::Result<Vec<String>> {
        let mut all: BTreeSet<String> = self
            .catalog_teams()
            .await?
            .projects()
            .await?
            .into_iter()
            .collect();
        all.extend(self.fallback.projects().await?);
        Ok(all.into_iter().collect())
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
