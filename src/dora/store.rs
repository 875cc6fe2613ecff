//! Where webhooks land and what the metrics read: a [`DoraStore`] of use cases, implemented once
//! for both databases (the SQL below is shared; [`sqlite`] and [`postgres`] instantiate it).
//!
//! Tables (migration 0003): `dora_projects`, `dora_deployments` (one row per deployment, with the
//! finish of its successful production commit rows kept up to date on every post),
//! `dora_deployment_commits` (DevLake's `cicd_deployment_commits`), `dora_incidents`,
//! `dora_pull_requests`. Every metric query is an index range scan per project.

pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;

use super::calendar::Millis;
use super::metrics::{ProjectFacts, Window};
use super::model::{DeploymentRecord, IncidentRecord, PullRequestRecord};
use crate::db::StoreError;

/// One deployment in the history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HistoryRow {
    pub id: String,
    pub version: Option<String>,
    pub environment: String,
    pub result: String,
    pub started_ms: Millis,
    pub finished_ms: Millis,
    pub duration_sec: i64,
    pub triggered_by: Option<String>,
    pub head_sha: String,
    pub head_message: Option<String>,
    pub head_author: Option<String>,
}

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

const PROJECT_ID: &str = "SELECT id FROM dora_projects WHERE name = $1";
const UPSERT_PROJECT: &str = "INSERT INTO dora_projects (name) VALUES ($1) \
     ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id";
const ALL_PROJECTS: &str = "SELECT name FROM dora_projects ORDER BY name";

// A multi-row insert: `INSERT_COMMITS`, then `VALUES (...), (...)`, then `ON_COMMIT_CONFLICT`.
const INSERT_COMMITS: &str = "INSERT INTO dora_deployment_commits \
     (project_id, deployment_id, repo_url, commit_sha, repo_id, ref_name, commit_msg, name, \
      display_title, result, status, environment, created_ms, started_ms, finished_ms, author, \
      authored_ms, qualifies) ";
const ON_COMMIT_CONFLICT: &str = " ON CONFLICT (project_id, deployment_id, repo_url, commit_sha) \
     DO UPDATE SET \
     repo_id = excluded.repo_id, ref_name = excluded.ref_name, commit_msg = excluded.commit_msg, \
     name = excluded.name, display_title = excluded.display_title, result = excluded.result, \
     status = excluded.status, environment = excluded.environment, \
     created_ms = excluded.created_ms, started_ms = excluded.started_ms, \
     finished_ms = excluded.finished_ms, author = excluded.author, \
     authored_ms = excluded.authored_ms, qualifies = excluded.qualifies";
/// Commit rows per insert statement (18 parameters each, under every backend's limit).
const COMMITS_PER_INSERT: usize = 500;

// The deployment's successful production finish (latest and earliest) comes from all its commit
// rows, including those of earlier posts.
const UPSERT_DEPLOYMENT: &str = "INSERT INTO dora_deployments \
     (project_id, id, name, display_title, result, environment, original_environment, \
      created_ms, started_ms, finished_ms, duration_sec, version, triggered_by, head_sha, \
      head_message, head_author, received_ms, prod_finished_ms, prod_first_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
      (SELECT MAX(finished_ms) FROM dora_deployment_commits \
       WHERE project_id = $1 AND deployment_id = $2 AND qualifies = 1), \
      (SELECT MIN(finished_ms) FROM dora_deployment_commits \
       WHERE project_id = $1 AND deployment_id = $2 AND qualifies = 1)) \
     ON CONFLICT (project_id, id) DO UPDATE SET \
     name = excluded.name, display_title = excluded.display_title, result = excluded.result, \
     environment = excluded.environment, original_environment = excluded.original_environment, \
     created_ms = excluded.created_ms, started_ms = excluded.started_ms, \
     finished_ms = excluded.finished_ms, duration_sec = excluded.duration_sec, \
     version = excluded.version, triggered_by = excluded.triggered_by, \
     head_sha = excluded.head_sha, head_message = excluded.head_message, \
     head_author = excluded.head_author, received_ms = excluded.received_ms, \
     prod_finished_ms = excluded.prod_finished_ms, prod_first_ms = excluded.prod_first_ms";

const UPSERT_INCIDENT: &str = "INSERT INTO dora_incidents \
     (project_id, issue_key, title, status, original_status, created_ms, updated_ms, \
      resolution_ms, lead_time_minutes, url, description, priority, severity, component, \
      assignee_name) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
     ON CONFLICT (project_id, issue_key) DO UPDATE SET \
     title = excluded.title, status = excluded.status, original_status = excluded.original_status, \
     created_ms = excluded.created_ms, updated_ms = excluded.updated_ms, \
     resolution_ms = excluded.resolution_ms, lead_time_minutes = excluded.lead_time_minutes, \
     url = excluded.url, description = excluded.description, priority = excluded.priority, \
     severity = excluded.severity, component = excluded.component, \
     assignee_name = excluded.assignee_name";

// As DevLake's fixed close (PR #8919): resolved now unless already resolved; the lead time
// recomputed when it was not given.
const CLOSE_INCIDENT: &str = "UPDATE dora_incidents SET status = 'DONE', original_status = '', \
     resolution_ms = COALESCE(resolution_ms, $3), \
     lead_time_minutes = CASE WHEN lead_time_minutes IS NULL OR lead_time_minutes = 0 \
       THEN (COALESCE(resolution_ms, $3) - created_ms) / 60000 ELSE lead_time_minutes END \
     WHERE project_id = (SELECT id FROM dora_projects WHERE name = $1) AND issue_key = $2";

const UPSERT_PULL_REQUEST: &str = "INSERT INTO dora_pull_requests \
     (project_id, id, title, pull_request_key, status, url, author_name, created_ms, merged_ms, \
      closed_ms, merge_commit_sha, first_commit_authored_ms, base_ref, head_ref) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
     ON CONFLICT (project_id, id) DO UPDATE SET \
     title = excluded.title, pull_request_key = excluded.pull_request_key, \
     status = excluded.status, url = excluded.url, author_name = excluded.author_name, \
     created_ms = excluded.created_ms, merged_ms = excluded.merged_ms, \
     closed_ms = excluded.closed_ms, merge_commit_sha = excluded.merge_commit_sha, \
     first_commit_authored_ms = excluded.first_commit_authored_ms, \
     base_ref = excluded.base_ref, head_ref = excluded.head_ref";

// Whether the project ever received a deployment, and an incident (1 or 0 each).
const ACTIVITY: &str = "SELECT \
     (SELECT COUNT(*) FROM (SELECT 1 FROM dora_deployments WHERE project_id = $1 LIMIT 1) AS any_deployment), \
     (SELECT COUNT(*) FROM (SELECT 1 FROM dora_incidents WHERE project_id = $1 LIMIT 1) AS any_incident)";

// Successful production deployments that finished in the range (reference §3).
const PROD_DEPLOYMENTS: &str = "SELECT id, prod_finished_ms, prod_first_ms FROM dora_deployments \
     WHERE project_id = $1 AND prod_finished_ms BETWEEN $2 AND $3";

// Each incident created after `$2` with the deployment of the project's last successful
// production commit row that finished before the incident was created (reference §6).
const LINKED_INCIDENTS: &str = "SELECT i.resolution_ms, \
     (SELECT c.deployment_id FROM dora_deployment_commits c \
      WHERE c.project_id = i.project_id AND c.qualifies = 1 AND c.finished_ms < i.created_ms \
      ORDER BY c.finished_ms DESC LIMIT 1) AS deployment_id \
     FROM dora_incidents i WHERE i.project_id = $1 AND i.created_ms > $2";

const RESTORED_INCIDENTS: &str = "SELECT resolution_ms, lead_time_minutes FROM dora_incidents \
     WHERE project_id = $1 AND resolution_ms BETWEEN $2 AND $3";

// A commit row is the first to ship its commit when no successful production row of the project
// with the same commit started earlier (or at the same time, in a deployment with a smaller id).
macro_rules! first_deployed {
    () => {
        "c.project_id = $1 AND c.qualifies = 1 AND c.finished_ms BETWEEN $2 AND $3 \
         AND NOT EXISTS (SELECT 1 FROM dora_deployment_commits e \
           WHERE e.project_id = c.project_id AND e.commit_sha = c.commit_sha AND e.qualifies = 1 \
           AND (e.started_ms < c.started_ms \
                OR (e.started_ms = c.started_ms AND e.deployment_id < c.deployment_id)))"
    };
}

// Merged pull requests shipped by a first-deployed commit row that finished in the range.
const PULL_REQUEST_CHANGES: &str = concat!(
    "SELECT c.finished_ms, p.created_ms, p.merged_ms, p.first_commit_authored_ms \
     FROM dora_deployment_commits c \
     JOIN dora_pull_requests p ON p.project_id = c.project_id \
       AND p.merge_commit_sha = c.commit_sha AND p.merged_ms IS NOT NULL \
     WHERE ",
    first_deployed!()
);

// First-deployed commit rows with an authored date that finished in the range.
const COMMIT_CHANGES: &str = concat!(
    "SELECT c.commit_sha, c.finished_ms, c.authored_ms FROM dora_deployment_commits c \
     WHERE c.authored_ms IS NOT NULL AND ",
    first_deployed!()
);

const HISTORY_ALL: &str = "SELECT id, version, environment, result, started_ms, finished_ms, \
     duration_sec, triggered_by, head_sha, head_message, head_author FROM dora_deployments \
     WHERE project_id = $1 ORDER BY started_ms DESC, id DESC LIMIT $2";
const HISTORY_IN: &str = "SELECT id, version, environment, result, started_ms, finished_ms, \
     duration_sec, triggered_by, head_sha, head_message, head_author FROM dora_deployments \
     WHERE project_id = $1 AND environment IN ($2, $3) ORDER BY started_ms DESC, id DESC LIMIT $4";
const COUNT_ALL: &str = "SELECT COUNT(*) FROM dora_deployments WHERE project_id = $1";
const COUNT_IN: &str =
    "SELECT COUNT(*) FROM dora_deployments WHERE project_id = $1 AND environment IN ($2, $3)";

/// Project ids by name. A project row is never deleted or renamed, so an id, once committed, is
/// valid for good: caching it saves a statement on every webhook and every read.
#[derive(Debug, Default)]
pub struct ProjectIds(std::sync::RwLock<std::collections::HashMap<String, i64>>);

impl ProjectIds {
    fn get(&self, name: &str) -> Option<i64> {
        self.0.read().ok()?.get(name).copied()
    }

    fn remember(&self, name: &str, id: i64) {
        if let Ok(mut ids) = self.0.write() {
            ids.insert(name.to_owned(), id);
        }
    }
}

/// Implements [`DoraStore`] for a store type with a `pool` field of one sqlx backend and an `ids`
/// field ([`ProjectIds`]).
macro_rules! dora_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::dora::store::DoraStore for $store {
            async fn save_deployment(
                &self,
                project: &str,
                record: &$crate::dora::model::DeploymentRecord,
                now_ms: i64,
            ) -> Result<(), $crate::db::StoreError> {
                use $crate::dora::store::*;
                let mut tx = self.pool.begin().await?;
                let project_id: i64 = match self.ids.get(project) {
                    Some(id) => id,
                    None => {
                        sqlx::query_scalar(UPSERT_PROJECT)
                            .bind(project)
                            .fetch_one(&mut *tx)
                            .await?
                    }
                };
                let environment = record.environment.as_str();
                for chunk in record.commits.chunks(COMMITS_PER_INSERT) {
                    let mut insert = sqlx::QueryBuilder::new(INSERT_COMMITS);
                    insert.push_values(chunk, |mut row, c| {
                        row.push_bind(project_id)
                            .push_bind(record.id.as_str())
                            .push_bind(c.repo_url.as_str())
                            .push_bind(c.commit_sha.as_str())
                            .push_bind(c.repo_id.as_deref())
                            .push_bind(c.ref_name.as_deref())
                            .push_bind(c.commit_msg.as_deref())
                            .push_bind(c.name.as_str())
                            .push_bind(c.display_title.as_deref())
                            .push_bind(c.result.as_str())
                            .push_bind(c.status.as_str())
                            .push_bind(environment)
                            .push_bind(c.created_ms)
                            .push_bind(c.started_ms)
                            .push_bind(c.finished_ms)
                            .push_bind(c.author.as_deref())
                            .push_bind(c.authored_ms)
                            .push_bind(i32::from(c.qualifies(environment)));
                    });
                    insert.push(ON_COMMIT_CONFLICT);
                    insert.build().execute(&mut *tx).await?;
                }
                let head = &record.commits[0];
                sqlx::query(UPSERT_DEPLOYMENT)
                    .bind(project_id)
                    .bind(&record.id)
                    .bind(&record.name)
                    .bind(&record.display_title)
                    .bind(&record.result)
                    .bind(&record.environment)
                    .bind(&record.original_environment)
                    .bind(record.created_ms)
                    .bind(record.started_ms)
                    .bind(record.finished_ms)
                    .bind(record.duration_sec)
                    .bind(&record.version)
                    .bind(&record.triggered_by)
                    .bind(&head.commit_sha)
                    .bind(&head.commit_msg)
                    .bind(&head.author)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                self.ids.remember(project, project_id);
                Ok(())
            }

            async fn save_incident(
                &self,
                project: &str,
                record: &$crate::dora::model::IncidentRecord,
            ) -> Result<(), $crate::db::StoreError> {
                use $crate::dora::store::*;
                let mut tx = self.pool.begin().await?;
                let project_id: i64 = match self.ids.get(project) {
                    Some(id) => id,
                    None => {
                        sqlx::query_scalar(UPSERT_PROJECT)
                            .bind(project)
                            .fetch_one(&mut *tx)
                            .await?
                    }
                };
                sqlx::query(UPSERT_INCIDENT)
                    .bind(project_id)
                    .bind(&record.issue_key)
                    .bind(&record.title)
                    .bind(&record.status)
                    .bind(&record.original_status)
                    .bind(record.created_ms)
                    .bind(record.updated_ms)
                    .bind(record.resolution_ms)
                    .bind(record.lead_time_minutes)
                    .bind(&record.url)
                    .bind(&record.description)
                    .bind(&record.priority)
                    .bind(&record.severity)
                    .bind(&record.component)
                    .bind(&record.assignee_name)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                self.ids.remember(project, project_id);
                Ok(())
            }

            async fn close_incident(
                &self,
                project: &str,
                issue_key: &str,
                now_ms: i64,
            ) -> Result<bool, $crate::db::StoreError> {
                let done = sqlx::query($crate::dora::store::CLOSE_INCIDENT)
                    .bind(project)
                    .bind(issue_key)
                    .bind(now_ms)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn save_pull_request(
                &self,
                project: &str,
                record: &$crate::dora::model::PullRequestRecord,
            ) -> Result<(), $crate::db::StoreError> {
                use $crate::dora::store::*;
                let mut tx = self.pool.begin().await?;
                let project_id: i64 = match self.ids.get(project) {
                    Some(id) => id,
                    None => {
                        sqlx::query_scalar(UPSERT_PROJECT)
                            .bind(project)
                            .fetch_one(&mut *tx)
                            .await?
                    }
                };
                sqlx::query(UPSERT_PULL_REQUEST)
                    .bind(project_id)
                    .bind(&record.id)
                    .bind(&record.title)
                    .bind(record.pull_request_key)
                    .bind(&record.status)
                    .bind(&record.url)
                    .bind(&record.author_name)
                    .bind(record.created_ms)
                    .bind(record.merged_ms)
                    .bind(record.closed_ms)
                    .bind(&record.merge_commit_sha)
                    .bind(record.first_commit_authored_ms)
                    .bind(&record.base_ref)
                    .bind(&record.head_ref)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                self.ids.remember(project, project_id);
                Ok(())
            }

            async fn has_project(&self, project: &str) -> Result<bool, $crate::db::StoreError> {
                if self.ids.get(project).is_some() {
                    return Ok(true);
                }
                let id: Option<i64> = sqlx::query_scalar($crate::dora::store::PROJECT_ID)
                    .bind(project)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(id.is_some())
            }

            async fn projects(&self) -> Result<Vec<String>, $crate::db::StoreError> {
                Ok(sqlx::query_scalar($crate::dora::store::ALL_PROJECTS)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn facts(
                &self,
                project: &str,
                window: $crate::dora::metrics::Window,
                restored: bool,
            ) -> Result<$crate::dora::metrics::ProjectFacts, $crate::db::StoreError> {
                use $crate::dora::calendar::Day;
                use $crate::dora::metrics::*;
                use $crate::dora::store::*;
                let mut conn = self.pool.acquire().await?;
                let id = match self.ids.get(project) {
                    Some(id) => Some(id),
                    None => {
                        sqlx::query_scalar(PROJECT_ID)
                            .bind(project)
                            .fetch_optional(&mut *conn)
                            .await?
                    }
                };
                let Some(id) = id else {
                    return Ok(ProjectFacts::default());
                };
                let range = window.since(&window.previous());
                let (deployed, incident): (i64, i64) = sqlx::query_as(ACTIVITY)
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await?;
                let (has_deployments, has_incidents) = (deployed > 0, incident > 0);
                // Deployment days are whole days: load the range's days in full.
                let days = Window::days(Day::of(range.from_ms), Day::of(range.to_ms));
                let rows: Vec<(String, i64, i64)> = sqlx::query_as(PROD_DEPLOYMENTS)
                    .bind(id)
                    .bind(days.from_ms)
                    .bind(days.to_ms)
                    .fetch_all(&mut *conn)
                    .await?;
                let earliest_row = rows.iter().map(|r| r.2).min();
                let deployments = rows
                    .into_iter()
                    .map(|(id, finished_ms, _)| ProdDeployment { id, finished_ms })
                    .collect();
                let mut incidents = Vec::new();
                // Only incidents created after the earliest commit row of these deployments can
                // be linked to one of them.
                if let Some(earliest) = earliest_row.filter(|_| has_incidents) {
                    let rows: Vec<(Option<i64>, Option<String>)> = sqlx::query_as(LINKED_INCIDENTS)
                        .bind(id)
                        .bind(earliest)
                        .fetch_all(&mut *conn)
                        .await?;
                    incidents = rows
                        .into_iter()
                        .filter_map(|(resolution_ms, deployment)| {
                            Some(LinkedIncident {
                                deployment: deployment?,
                                resolution_ms,
                            })
                        })
                        .collect();
                }
                let mut restored_incidents = Vec::new();
                if restored && has_incidents {
                    let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(RESTORED_INCIDENTS)
                        .bind(id)
                        .bind(range.from_ms)
                        .bind(range.to_ms)
                        .fetch_all(&mut *conn)
                        .await?;
                    restored_incidents = rows
                        .into_iter()
                        .map(|(resolution_ms, lead_time_minutes)| RestoredIncident {
                            resolution_ms,
                            lead_time_minutes,
                        })
                        .collect();
                }
                let rows: Vec<(i64, i64, i64, Option<i64>)> = sqlx::query_as(PULL_REQUEST_CHANGES)
                    .bind(id)
                    .bind(range.from_ms)
                    .bind(range.to_ms)
                    .fetch_all(&mut *conn)
                    .await?;
                let mut changes: Vec<Change> = rows
                    .into_iter()
                    .map(|(finished, created, merged, first_commit)| Change::PullRequest {
                        deployed_ms: finished,
                        minutes: pull_request_cycle_minutes(first_commit, created, merged, finished),
                    })
                    .collect();
                // Deployed commits stand in for pull requests in a window without any.
                let covered = |w: &Window| {
                    changes.iter().any(|c| matches!(c, Change::PullRequest { deployed_ms, .. } if w.contains(*deployed_ms)))
                };
                if !(covered(&window) && covered(&window.previous())) {
                    let rows: Vec<(String, i64, i64)> = sqlx::query_as(COMMIT_CHANGES)
                        .bind(id)
                        .bind(range.from_ms)
                        .bind(range.to_ms)
                        .fetch_all(&mut *conn)
                        .await?;
                    changes.extend(rows.into_iter().filter_map(|(sha, finished, authored)| {
                        Some(Change::Commit {
                            deployed_ms: finished,
                            sha,
                            minutes: $crate::dora::stats::ceil_minutes(authored, finished)?,
                        })
                    }));
                }
                Ok(ProjectFacts {
                    has_deployments,
                    has_incidents,
                    deployments,
                    incidents,
                    restored: restored_incidents,
                    changes,
                })
            }

            async fn history(
                &self,
                project: &str,
                environments: Option<&[&str]>,
                limit: i64,
            ) -> Result<(i64, Vec<$crate::dora::store::HistoryRow>), $crate::db::StoreError> {
                use $crate::dora::store::*;
                let mut conn = self.pool.acquire().await?;
                let id = match self.ids.get(project) {
                    Some(id) => Some(id),
                    None => {
                        sqlx::query_scalar(PROJECT_ID)
                            .bind(project)
                            .fetch_optional(&mut *conn)
                            .await?
                    }
                };
                let Some(id) = id else {
                    return Ok((0, Vec::new()));
                };
                let (total, rows) = match environments {
                    None => {
                        let total: i64 = sqlx::query_scalar(COUNT_ALL)
                            .bind(id)
                            .fetch_one(&mut *conn)
                            .await?;
                        let rows = sqlx::query_as(HISTORY_ALL)
                            .bind(id)
                            .bind(limit)
                            .fetch_all(&mut *conn)
                            .await?;
                        (total, rows)
                    }
                    Some(envs) => {
                        let (first, second) = (envs[0], envs.get(1).copied().unwrap_or(envs[0]));
                        let total: i64 = sqlx::query_scalar(COUNT_IN)
                            .bind(id)
                            .bind(first)
                            .bind(second)
                            .fetch_one(&mut *conn)
                            .await?;
                        let rows = sqlx::query_as(HISTORY_IN)
                            .bind(id)
                            .bind(first)
                            .bind(second)
                            .bind(limit)
                            .fetch_all(&mut *conn)
                            .await?;
                        (total, rows)
                    }
                };
                Ok((total, rows))
            }
        }
    };
}
pub(crate) use dora_store;

#[cfg(test)]
mod tests {
    use super::*;
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
        let Database::Sqlite(pool) = &db else {
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
