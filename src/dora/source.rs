//! Where the metrics' facts come from. A [`DoraSource`] answers which projects exist, what one
//! project's facts are over a time range ([`ProjectFacts`], the only input of the one metrics
//! engine), and its deployment history. Three sources, chosen by `[dora] source`:
//!
//! - [`WebhookSource`]: what this server's webhooks stored ([`DoraStore`], the default);
//! - [`DevLakeSource`](super::devlake::DevLakeSource): a running Apache DevLake's domain tables,
//!   read-only;
//! - [`BothSources`]: both at once. A project is read from one source, never summed: from DevLake
//!   when DevLake knows it (a row in its `projects` table), else from the webhooks.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::future::try_join_all;

use super::metrics::{ProjectFacts, Window};
use super::store::{DoraStore, HistoryRow};
use crate::db::StoreError;

/// A source's failure. DevLake's are worded for the operator: its database is down or slow, or
/// it lacks a table or column this server reads.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// This server's own database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// DevLake's database cannot be reached, or did not answer within `dora.devlake.timeout`.
    #[error("DevLake's database is unavailable: {0}")]
    DevLakeUnavailable(String),
    /// DevLake's database lacks a table or column this server reads.
    #[error("DevLake's database does not have the domain tables this server reads: {0}")]
    DevLakeSchema(String),
    /// Anything else DevLake's database answered.
    #[error("DevLake's database failed: {0}")]
    DevLake(#[source] sqlx::Error),
}

/// One source of DORA facts (see the module's documentation).
#[async_trait]
pub trait DoraSource: Send + Sync + 'static {
    /// Whether the source knows `project`.
    async fn has_project(&self, project: &str) -> Result<bool, SourceError>;
    /// Every project the source knows, sorted.
    async fn projects(&self) -> Result<Vec<String>, SourceError>;
    /// What the metrics of `project` need for `window` and the window before it (see
    /// [`ProjectFacts`]); the 2021 restore times only when `restored` is set. An unknown project
    /// has no facts.
    async fn facts(
        &self,
        project: &str,
        window: Window,
        restored: bool,
    ) -> Result<ProjectFacts, SourceError>;
    /// The facts of `projects` taken together (a team, or every project), as groups the metrics
    /// add up: whatever several of the projects share (a DevLake deployment of a CI/CD scope two
    /// of them map) is in one group, once. By default each project is its own group (webhook
    /// projects share nothing), loaded concurrently.
    async fn facts_of(
        &self,
        projects: &[String],
        window: Window,
        restored: bool,
    ) -> Result<Vec<ProjectFacts>, SourceError> {
        try_join_all(
            projects
                .iter()
                .map(|project| self.facts(project, window, restored)),
        )
        .await
    }
    /// The newest `limit` finished deployments of `project` in `environments` (DevLake's
    /// environment names; all when `None`), newest start first, and how many there are in all.
    async fn history(
        &self,
        project: &str,
        environments: Option<&[&str]>,
        limit: i64,
    ) -> Result<(i64, Vec<HistoryRow>), SourceError>;
}

/// Where webhooks are stored and where the metrics read their facts.
pub struct Sources {
    /// Where posted webhooks are stored.
    pub store: Arc<dyn DoraStore>,
    /// Where the metrics and the history read.
    pub facts: Arc<dyn DoraSource>,
    /// Whether posted webhooks are stored (not when the facts come from DevLake alone).
    pub takes_webhooks: bool,
}

/// The facts this server's webhooks stored.
pub struct WebhookSource(pub Arc<dyn DoraStore>);

#[async_trait]
impl DoraSource for WebhookSource {
    async fn has_project(&self, project: &str) -> Result<bool, SourceError> {
        Ok(self.0.has_project(project).await?)
    }

    async fn projects(&self) -> Result<Vec<String>, SourceError> {
        Ok(self.0.projects().await?)
    }

    async fn facts(
        &self,
        project: &str,
        window: Window,
        restored: bool,
    ) -> Result<ProjectFacts, SourceError> {
        Ok(self.0.facts(project, window, restored).await?)
    }

    async fn history(
        &self,
        project: &str,
        environments: Option<&[&str]>,
        limit: i64,
    ) -> Result<(i64, Vec<HistoryRow>), SourceError> {
        Ok(self.0.history(project, environments, limit).await?)
    }
}

/// DevLake and the webhooks together: each project comes from exactly one of them, DevLake when
/// it knows the project. A project posted here and also set up in DevLake is therefore read
/// from DevLake only; its webhook facts are kept but not read while DevLake has the project.
pub struct BothSources {
    /// DevLake's database; decides which projects it owns.
    pub devlake: Arc<dyn DoraSource>,
    /// This server's webhooks, for every other project.
    pub webhooks: Arc<dyn DoraSource>,
}

impl BothSources {
    async fn of(&self, project: &str) -> Result<&dyn DoraSource, SourceError> {
        Ok(if self.devlake.has_project(project).await? {
            self.devlake.as_ref()
        } else {
            self.webhooks.as_ref()
        })
    }
}

#[async_trait]
impl DoraSource for BothSources {
    async fn has_project(&self, project: &str) -> Result<bool, SourceError> {
        Ok(self.devlake.has_project(project).await? || self.webhooks.has_project(project).await?)
    }

    async fn projects(&self) -> Result<Vec<String>, SourceError> {
        let mut all: BTreeSet<String> = self.devlake.projects().await?.into_iter().collect();
        all.extend(self.webhooks.projects().await?);
        Ok(all.into_iter().collect())
    }

    async fn facts(
        &self,
        project: &str,
        window: Window,
        restored: bool,
    ) -> Result<ProjectFacts, SourceError> {
        self.of(project)
            .await?
            .facts(project, window, restored)
            .await
    }

    /// DevLake's projects read together (one group), the others one by one.
    async fn facts_of(
        &self,
        projects: &[String],
        window: Window,
        restored: bool,
    ) -> Result<Vec<ProjectFacts>, SourceError> {
        let in_devlake = try_join_all(projects.iter().map(|p| self.devlake.has_project(p))).await?;
        let (lake, hooks): (Vec<_>, Vec<_>) = projects
            .iter()
            .zip(in_devlake)
            .partition(|(_, in_devlake)| *in_devlake);
        let lake: Vec<String> = lake.into_iter().map(|(p, _)| p.clone()).collect();
        let hooks: Vec<String> = hooks.into_iter().map(|(p, _)| p.clone()).collect();
        let (mut facts, from_hooks) = tokio::try_join!(
            self.devlake.facts_of(&lake, window, restored),
            self.webhooks.facts_of(&hooks, window, restored),
        )?;
        facts.extend(from_hooks);
        Ok(facts)
    }

    async fn history(
        &self,
        project: &str,
        environments: Option<&[&str]>,
        limit: i64,
    ) -> Result<(i64, Vec<HistoryRow>), SourceError> {
        self.of(project)
            .await?
            .history(project, environments, limit)
            .await
    }
}
