//! A running Apache DevLake's database as the source of DORA facts (`[dora] source = "devlake"`
//! or `"both"`). It reads DevLake's domain layer the way DevLake's DORA dashboard does (see
//! docs/DORA.md for the table mapping and the deliberate differences) and turns it into the same
//! [`ProjectFacts`] the webhooks give, so one metrics engine serves both. A team's projects are
//! read together, so what two of them share (a CI/CD scope, a board, a repository) counts once:
//!
//! - deployments: `cicd_deployment_commits` of the project's CI/CD scopes with result `SUCCESS`
//!   in `PRODUCTION`, grouped by `cicd_deployment_id`, finished at the latest such row;
//! - incidents: those the dora plugin's `project_incident_deployment_relationships` links to one
//!   of those deployments, whatever board they belong to;
//! - changes: merged `pull_requests` of the project's repositories with the cycle time and
//!   deployment the dora plugin stored in `project_pr_metrics`, as DevLake left them;
//! - history: `cicd_deployments`, with the scope's name as `triggeredBy`.
//!
//! Read-only: every connection is set `READ ONLY`, and a user with `SELECT` on DevLake's database
//! is all it needs. Every read is bounded by `dora.devlake.timeout`, on the server too.

mod history;
pub mod sql;

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::future::try_join_all;
use sqlx::mysql::{MySqlConnectOptions, MySqlDatabaseError, MySqlPool, MySqlPoolOptions};
use sqlx::{Executor, MySqlConnection, Row};

use super::calendar::{Day, Millis};
use super::metrics::{
    Change, LinkedIncident, ProdDeployment, ProjectFacts, RestoredIncident, Window,
};
use super::source::{DoraSource, SourceError};
use super::store::HistoryRow;
use crate::config::dora::DevLakeConfig;

/// How many projects one deployments or pull-requests statement reads: a team's statements run
/// at once, as many as the pool has connections, so that DevLake's server works on them in
/// parallel (measured on a shared two-core VM: 20 projects in 3 statements were slower than in
/// 10, as the few statements got a smaller share of the busy cores).
const PROJECTS_PER_STATEMENT: usize = 2;

/// DevLake's database, pooled and bounded by `dora.devlake.timeout`.
pub struct DevLakeSource {
    pool: MySqlPool,
    timeout: Duration,
}

impl DevLakeSource {
    /// A pool to DevLake's database that connects on first use, so the server starts while
    /// DevLake's database is down (its routes answer 503 until it is back).
    pub fn connect_lazy(config: &DevLakeConfig) -> anyhow::Result<DevLakeSource> {
        let options = MySqlConnectOptions::from_str(&config.url).map_err(|e| {
            anyhow::anyhow!("dora.devlake.database_url ({}): {e}", config.shown_url())
        })?;
        let timeout = config.timeout;
        let pool = MySqlPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(timeout)
            .idle_timeout(Some(Duration::from_secs(300)))
            .after_connect(move |conn, _| Box::pin(async move { session(conn, timeout).await }))
            .connect_lazy_with(options);
        Ok(DevLakeSource { pool, timeout })
    }

    /// Closes the pool (tests and benchmarks; the server drops it).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// `work`, bounded by the timeout, its errors worded for the operator.
    async fn bounded<T>(
        &self,
        work: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, SourceError> {
        match tokio::time::timeout(self.timeout, work).await {
            Ok(result) => result.map_err(source_error),
            Err(_) => Err(SourceError::DevLakeUnavailable(format!(
                "no answer within {:?} (dora.devlake.timeout)",
                self.timeout
            ))),
        }
    }

    /// The facts of `projects` together: a deployment, incident or pull request several of the
    /// projects map is read once, as DevLake's dashboard counts it for a selection of projects.
    /// The two costly reads, deployments and pull requests, are split by project into
    /// statements of [`PROJECTS_PER_STATEMENT`] projects, all run at once on the pool's
    /// connections (DevLake indexes no date, so each costs a lookup per row of its projects'
    /// scopes, of all time), and merged here.
    async fn load_facts(
        &self,
        projects: &[String],
        window: Window,
        restored: bool,
    ) -> Result<ProjectFacts, sqlx::Error> {
        let range = window.since(&window.previous());
        // Deployment days are whole days: load the range's days in full.
        let days = Window::days(Day::of(range.from_ms), Day::of(range.to_ms));
        let parts = projects.chunks(PROJECTS_PER_STATEMENT);
        let ((has_deployments, has_incidents, restored_incidents), latest, changes) = tokio::try_join!(
            self.load_activity(projects, range, restored),
            try_join_all(
                parts
                    .clone()
                    .map(|part| self.load_deployments(part, days.from_ms))
            ),
            try_join_all(parts.map(|part| self.load_changes(part, range))),
        )?;
        let mut finished: HashMap<String, Millis> = HashMap::new();
        for (id, ms) in latest.into_iter().flatten() {
            let at = finished.entry(id).or_insert(ms);
            *at = (*at).max(ms);
        }
        let mut deployments: Vec<ProdDeployment> = finished
            .into_iter()
            .filter(|(_, ms)| *ms <= days.to_ms)
            .map(|(id, finished_ms)| ProdDeployment { id, finished_ms })
            .collect();
        deployments.sort_by(|a, b| (a.finished_ms, &a.id).cmp(&(b.finished_ms, &b.id)));
        let incidents = self.load_linked_incidents(&deployments).await?;
        // DevLake counts each (pull request, cycle time) once.
        let mut seen = BTreeSet::new();
        let changes = changes
            .into_iter()
            .flatten()
            .filter(|(id, minutes, deployed_ms)| seen.insert((id.clone(), *minutes, *deployed_ms)))
            .map(|(_, minutes, deployed_ms)| Change::PullRequest {
                deployed_ms,
                minutes,
            })
            .collect();
        Ok(ProjectFacts {
            has_deployments,
            // An incident linked to one of their deployments counts as theirs too.
            has_incidents: has_incidents || !incidents.is_empty(),
            deployments,
            incidents,
            restored: restored_incidents,
            changes,
        })
    }

    /// Whether the projects have any deployment and any incident, and (when `restored`) their
    /// incidents resolved in the range, each once.
    async fn load_activity(
        &self,
        projects: &[String],
        range: Window,
        restored: bool,
    ) -> Result<(bool, bool, Vec<RestoredIncident>), sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        let activity = sql::activity(projects).fetch_one(&mut *conn).await?;
        let mut incidents = Vec::new();
        if restored {
            let mut seen = BTreeSet::new();
            for row in sql::restored_incidents(projects, range.from_ms, range.to_ms)
                .fetch_all(&mut *conn)
                .await?
            {
                if seen.insert(row.try_get::<String, _>(0)?) {
                    incidents.push(RestoredIncident {
                        resolution_ms: row.try_get(1)?,
                        lead_time_minutes: row.try_get(2)?,
                    });
                }
            }
        }
        Ok((
            activity.try_get::<i64, _>(0)? > 0,
            activity.try_get::<i64, _>(1)? > 0,
            incidents,
        ))
    }

    /// The projects' successful production deployments with a qualifying row finished at or
    /// after `from_ms`, and their latest finish.
    async fn load_deployments(
        &self,
        projects: &[String],
        from_ms: Millis,
    ) -> Result<Vec<(String, Millis)>, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        let rows = sql::prod_deployments(projects, from_ms)
            .fetch_all(&mut *conn)
            .await?;
        rows.iter()
            .map(|row| {
                let id: Option<String> = row.try_get(0)?;
                Ok((id.unwrap_or_default(), row.try_get(1)?))
            })
            .collect()
    }

    /// The incidents linked to `deployments`, whichever board they belong to: DevLake's
    /// dashboard follows the link alone.
    async fn load_linked_incidents(
        &self,
        deployments: &[ProdDeployment],
    ) -> Result<Vec<LinkedIncident>, sqlx::Error> {
        let mut incidents = Vec::new();
        if deployments.is_empty() {
            return Ok(incidents);
        }
        let mut conn = self.pool.acquire().await?;
        let ids: Vec<String> = deployments.iter().map(|d| d.id.clone()).collect();
        for ids in ids.chunks(sql::MAX_IDS) {
            for row in sql::linked_incidents(ids).fetch_all(&mut *conn).await? {
                let deployment: Option<String> = row.try_get(0)?;
                if let Some(deployment) = deployment {
                    incidents.push(LinkedIncident {
                        deployment,
                        resolution_ms: row.try_get(1)?,
                    });
                }
            }
        }
        Ok(incidents)
    }

    /// The projects' merged pull requests shipped in the range: id, cycle time, deployment finish.
    async fn load_changes(
        &self,
        projects: &[String],
        range: Window,
    ) -> Result<Vec<(String, i64, Millis)>, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        let rows = sql::pull_request_changes(projects, range.from_ms, range.to_ms)
            .fetch_all(&mut *conn)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect()
    }
}

#[async_trait]
impl DoraSource for DevLakeSource {
    async fn has_project(&self, project: &str) -> Result<bool, SourceError> {
        self.bounded(async {
            let mut conn = self.pool.acquire().await?;
            Ok(sql::project(project)
                .fetch_optional(&mut *conn)
                .await?
                .is_some())
        })
        .await
    }

    async fn projects(&self) -> Result<Vec<String>, SourceError> {
        let mut names: Vec<String> = self
            .bounded(async {
                let mut conn = self.pool.acquire().await?;
                let rows = sql::projects().fetch_all(&mut *conn).await?;
                rows.iter().map(|r| r.try_get(0)).collect()
            })
            .await?;
        names.sort();
        Ok(names)
    }

    async fn facts(
        &self,
        project: &str,
        window: Window,
        restored: bool,
    ) -> Result<ProjectFacts, SourceError> {
        self.bounded(self.load_facts(&[project.to_owned()], window, restored))
            .await
    }

    /// One group: DevLake's ids are global, so the projects' facts are read together and a
    /// deployment, incident or pull request they share counts once.
    async fn facts_of(
        &self,
        projects: &[String],
        window: Window,
        restored: bool,
    ) -> Result<Vec<ProjectFacts>, SourceError> {
        if projects.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![
            self.bounded(self.load_facts(projects, window, restored))
                .await?,
        ])
    }

    async fn history(
        &self,
        project: &str,
        environments: Option<&[&str]>,
        limit: i64,
    ) -> Result<(i64, Vec<HistoryRow>), SourceError> {
        self.bounded(self.load_history(project, environments, limit))
            .await
    }
}

/// Each new connection: read-only, and statements stopped by the server after `timeout`
/// (MySQL's `max_execution_time`, MariaDB's `max_statement_time`).
async fn session(conn: &mut MySqlConnection, timeout: Duration) -> Result<(), sqlx::Error> {
    let version: String = sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(&mut *conn)
        .await?;
    let limit = if version.contains("MariaDB") {
        format!(
            "SET SESSION max_statement_time = {:.3}",
            timeout.as_secs_f64()
        )
    } else {
        format!("SET SESSION max_execution_time = {}", timeout.as_millis())
    };
    // Only a number is formatted into the text.
    conn.execute(sqlx::AssertSqlSafe(limit)).await?;
    conn.execute("SET SESSION TRANSACTION READ ONLY").await?;
    Ok(())
}

/// MySQL's "no such table" and "unknown column"; its and MariaDB's "statement timed out".
const NO_SUCH_TABLE: u16 = 1146;
const UNKNOWN_COLUMN: u16 = 1054;
const MYSQL_QUERY_TIMEOUT: u16 = 3024;
const MARIADB_STATEMENT_TIMEOUT: u16 = 1969;

fn source_error(err: sqlx::Error) -> SourceError {
    let number = match &err {
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<MySqlDatabaseError>()
            .map(MySqlDatabaseError::number),
        _ => None,
    };
    match (number, &err) {
        (Some(NO_SUCH_TABLE | UNKNOWN_COLUMN), _) => SourceError::DevLakeSchema(err.to_string()),
        (Some(MYSQL_QUERY_TIMEOUT | MARIADB_STATEMENT_TIMEOUT), _) => {
            SourceError::DevLakeUnavailable("a statement ran past dora.devlake.timeout".into())
        }
        (
            _,
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_),
        ) => SourceError::DevLakeUnavailable(err.to_string()),
        _ => SourceError::DevLake(err),
    }
}
