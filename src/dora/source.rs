//! Where the metrics' facts come from. A [`DoraSource`] answers which projects exist, what one
//! project's facts are over a time range ([`ProjectFacts`], the only input of the one metrics
//! engine), and its deployment history: [`WebhookSource`], what this server's webhooks stored
//! ([`DoraStore`]).

use std::sync::Arc;

use async_trait::async_trait;

use super::metrics::{ProjectFacts, Window};
use super::store::{DoraStore, HistoryRow};
use crate::db::StoreError;

/// A source's failure.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// This server's own database.
    #[error(transparent)]
    Store(#[from] StoreError),
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
