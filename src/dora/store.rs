//! Where webhooks land and what the metrics read: a [`DoraStore`] of use cases, implemented once
//! for both databases ([`SqlDoraStore`], generic over the backend, with the statements of [`sql`]).
//!
//! Tables (migration 0003): `dora_projects`, `dora_deployments` (one row per deployment, with the
//! finish of its successful production commit rows kept up to date on every post),
//! `dora_deployment_commits` (DevLake's `cicd_deployment_commits`), `dora_incidents`,
//! `dora_pull_requests`. Every metric query is an index range scan per project.

pub mod sql;
mod sql_store;

pub use sql_store::{DoraSql, SqlDoraStore};

use async_trait::async_trait;

use super::calendar::Millis;
use super::metrics::{ProjectFacts, Window};
use super::model::{DeploymentRecord, IncidentRecord, PullRequestRecord};
use crate::db::{Database, StoreError};

/// One deployment in the history, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// The deployment's id.
    pub id: String,
    /// The version deployed, when known.
    pub version: Option<String>,
    /// Its environment.
    pub environment: String,
    /// Its result.
    pub result: String,
    /// When it started (epoch ms).
    pub started_ms: Millis,
    /// When it finished (epoch ms).
    pub finished_ms: Millis,
    /// Whole seconds from start to finish.
    pub duration_sec: i64,
    /// Who or what triggered it, when known.
    pub triggered_by: Option<String>,
    /// Its head commit.
    pub head_sha: String,
    /// The head commit's message, when known.
    pub head_message: Option<String>,
    /// The head commit's author, when known.
    pub head_author: Option<String>,
}

/// Where the DevLake plugin's records live: its use cases, on either database ([`SqlDoraStore`]).
#[async_trait]
pub trait DoraStore: Send + Sync + 'static {
    /// Creates or updates deployment `record.id` of `project` and its commit rows, in one
    /// transaction. Commit rows of earlier posts that this one does not list are kept (as DevLake).
    async fn save_deployment(
        &self,
        project: &str,
        record: &DeploymentRecord,
        now_ms: Millis,
    ) -> Result<(), StoreError>;
    /// Creates or updates incident `record.issue_key` of `project`.
    async fn save_incident(&self, project: &str, record: &IncidentRecord)
    -> Result<(), StoreError>;
    /// Marks the incident done; it is resolved now unless it already had a resolution date.
    /// `false` when there is no such incident.
    async fn close_incident(
        &self,
        project: &str,
        issue_key: &str,
        now_ms: Millis,
    ) -> Result<bool, StoreError>;
    /// Creates or updates pull request `record.id` of `project`.
    async fn save_pull_request(
        &self,
        project: &str,
        record: &PullRequestRecord,
    ) -> Result<(), StoreError>;
    /// Whether any webhook ever named `project`.
    async fn has_project(&self, project: &str) -> Result<bool, StoreError>;
    /// Every project any webhook ever named.
    async fn projects(&self) -> Result<Vec<String>, StoreError>;
    /// What the metrics of `project` need for `window` and the window before it (see
    /// [`ProjectFacts`]): deployed commits only when a window has no pull-request change, the
    /// 2021 restore times only when `restored` is set.
    async fn facts(
        &self,
        project: &str,
        window: Window,
        restored: bool,
    ) -> Result<ProjectFacts, StoreError>;
    /// The newest `limit` deployments of `project` in `environments` (all when `None`), and how
    /// many there are in all.
    async fn history(
        &self,
        project: &str,
        environments: Option<&[&str]>,
        limit: i64,
    ) -> Result<(i64, Vec<HistoryRow>), StoreError>;
}

/// The DevLake plugin's store on `db`.
pub fn open(db: &Database) -> std::sync::Arc<dyn DoraStore> {
    match db {
        Database::Sqlite { pool, writer } => {
            std::sync::Arc::new(SqlDoraStore::new(pool.clone(), writer.clone()))
        }
        Database::Postgres(pool) => {
            std::sync::Arc::new(SqlDoraStore::new(pool.clone(), pool.clone()))
        }
    }
}

/// Project ids by name. A project row is never deleted or renamed, so an id, once committed, is
/// valid for good: caching it saves a statement on every webhook and every read.
#[derive(Debug, Default)]
pub struct ProjectIds(std::sync::RwLock<std::collections::HashMap<String, i64>>);

impl ProjectIds {
    pub(crate) fn get(&self, name: &str) -> Option<i64> {
        self.0.read().ok()?.get(name).copied()
    }

    pub(crate) fn remember(&self, name: &str, id: i64) {
        if let Ok(mut ids) = self.0.write() {
            ids.insert(name.to_owned(), id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sql::*;
    use crate::config::Config;
    use crate::db::Database;

    /// SQLite's plan for every metric and history query: index searches only, no table scans
    /// and no sorting for the history's order.
    #[tokio::test]
    async fn every_read_query_is_index_driven() {
        let dir = tempfile::TempDir::new().unwrap();
        let db = Database::connect(&Config::with_data_dir(dir.path()).database)
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let Database::Sqlite { pool, .. } = &db else {
            unreachable!()
        };
        let queries = [
            (PROJECT_ID, 1),
            (ACTIVITY, 1),
            (PROD_DEPLOYMENTS, 3),
            (LINKED_INCIDENTS, 2),
            (RESTORED_INCIDENTS, 3),
            (PULL_REQUEST_CHANGES, 3),
            (COMMIT_CHANGES, 3),
            (HISTORY_ALL, 2),
            (HISTORY_IN, 4),
            (COUNT_ALL, 1),
            (COUNT_IN, 3),
        ];
        for (sql, params) in queries {
            let explain = format!("EXPLAIN QUERY PLAN {sql}");
            let mut query =
                sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(explain));
            for _ in 0..params {
                query = query.bind(1_i64);
            }
            let plan: Vec<String> = query
                .fetch_all(pool)
                .await
                .unwrap()
                .into_iter()
                .map(|row| row.3)
                .collect();
            let plan = plan.join("\n");
            // Scanning the constant row or a one-row `LIMIT 1` subquery is fine.
            let scans_a_table = |l: &str| {
                l.starts_with("SCAN")
                    && !l.starts_with("SCAN CONSTANT ROW")
                    && !l.starts_with("SCAN any_")
            };
            assert!(
                !plan
                    .lines()
                    .any(|l| scans_a_table(l) || l.contains("TEMP B-TREE")),
                "{sql}\n{plan}"
            );
        }
    }
}
