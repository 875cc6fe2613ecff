//! A running Apache DevLake's database as the source of DORA facts (`[dora] source = "devlake"`
//! or `"both"`). It reads DevLake's domain layer the way DevLake's DORA dashboard does (see
//! docs/DORA.md for the table mapping and the deliberate differences) and turns it into the same
//! [`ProjectFacts`] the webhooks give, so one metrics engine serves both:
//!
//! - deployments: `cicd_deployment_commits` of the project's CI/CD scopes with result `SUCCESS`
//!   in `PRODUCTION`, grouped by `cicd_deployment_id`, finished at the latest such row;
//! - incidents: `incidents` of the project's boards, linked to a deployment by the dora plugin's
//!   `project_incident_deployment_relationships`;
//! - changes: merged `pull_requests` of the project's repositories with the cycle time and
//!   deployment the dora plugin stored in `project_pr_metrics`, as DevLake left them;
//! - history: `cicd_deployments`, with the scope's name as `triggeredBy`.
//!
//! Read-only: every connection is set `READ ONLY`, and a user with `SELECT` on DevLake's database
//! is all it needs. Every read is bounded by `dora.devlake.timeout`, on the server too.

pub mod sql;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::mysql::{MySqlConnectOptions, MySqlDatabaseError, MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::{Executor, MySqlConnection, Row};

use super::calendar::{Day, Millis};
use super::metrics::{
    Change, LinkedIncident, ProdDeployment, ProjectFacts, RestoredIncident, Window,
};
use super::source::{DoraSource, SourceError};
use super::store::HistoryRow;
use crate::config::dora::DevLakeConfig;

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

    /// A project's facts, read in two halves at once on two connections: its deployments, and
    /// what DevLake linked to deployments (incidents, pull requests).
    async fn load_facts(
        &self,
        project: &str,
        window: Window,
        restored: bool,
    ) -> Result<ProjectFacts, sqlx::Error> {
        let range = window.since(&window.previous());
        let ((has_deployments, has_incidents, latest), links) = tokio::try_join!(
            self.load_deployments(project, range),
            self.load_links(project, range, restored),
        )?;
        let mut deployments: Vec<ProdDeployment> = latest
            .iter()
            .map(|(id, finished)| ProdDeployment {
                id: id.clone(),
                finished_ms: *finished,
            })
            .collect();
        deployments.sort_by(|a, b| (a.finished_ms, &a.id).cmp(&(b.finished_ms, &b.id)));
        let incidents = links
            .incidents
            .into_iter()
            .filter(|i| latest.contains_key(&i.deployment))
            .collect();
        Ok(ProjectFacts {
            has_deployments,
            has_incidents,
            deployments,
            incidents,
            restored: links.restored,
            changes: links.changes,
        })
    }

    /// Whether the project has any deployment and any incident, and its successful production
    /// deployments of the range's whole days with their finish.
    async fn load_deployments(
        &self,
        project: &str,
        range: Window,
    ) -> Result<(bool, bool, HashMap<String, Millis>), sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        let activity = sql::activity(project).fetch_one(&mut *conn).await?;
        let has_deployments = activity.try_get::<i64, _>(0)? > 0;
        let has_incidents = activity.try_get::<i64, _>(1)? > 0;
        // Deployment days are whole days: load the range's days in full.
        let days = Window::days(Day::of(range.from_ms), Day::of(range.to_ms));
        let mut latest: HashMap<String, Millis> = HashMap::new();
        for row in sql::prod_rows(project, days.from_ms)
            .fetch_all(&mut *conn)
            .await?
        {
            let id: Option<String> = row.try_get(0)?;
            let finished: Millis = row.try_get(1)?;
            let at = latest.entry(id.unwrap_or_default()).or_insert(finished);
            *at = (*at).max(finished);
        }
        latest.retain(|_, finished| *finished <= days.to_ms);
        Ok((has_deployments, has_incidents, latest))
    }

    /// The project's incidents with the deployment each is linked to, those resolved in the range
    /// (when `restored`), and its pull requests shipped in the range.
    async fn load_links(
        &self,
        project: &str,
        range: Window,
        restored: bool,
    ) -> Result<Links, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        let mut links = Links::default();
        for row in sql::linked_incidents(project).fetch_all(&mut *conn).await? {
            let deployment: Option<String> = row.try_get(0)?;
            if let Some(deployment) = deployment {
                links.incidents.push(LinkedIncident {
                    deployment,
                    resolution_ms: row.try_get(1)?,
                });
            }
        }
        if restored {
            for row in sql::restored_incidents(project, range.from_ms, range.to_ms)
                .fetch_all(&mut *conn)
                .await?
            {
                links.restored.push(RestoredIncident {
                    resolution_ms: row.try_get(0)?,
                    lead_time_minutes: row.try_get(1)?,
                });
            }
        }
        // DevLake counts each (pull request, cycle time) once.
        let mut seen = BTreeSet::new();
        for row in sql::pull_request_changes(project, range.from_ms, range.to_ms)
            .fetch_all(&mut *conn)
            .await?
        {
            let (id, minutes, deployed_ms): (String, i64, Millis) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            if seen.insert((id, minutes, deployed_ms)) {
                links.changes.push(Change::PullRequest {
                    deployed_ms,
                    minutes,
                });
            }
        }
        Ok(links)
    }

    async fn load_history(
        &self,
        project: &str,
        environments: Option<&[&str]>,
        limit: i64,
    ) -> Result<(i64, Vec<HistoryRow>), sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        let (count, page) = sql::history(project, environments, limit);
        let total: i64 = count.fetch_one(&mut *conn).await?.try_get(0)?;
        let page = page.fetch_all(&mut *conn).await?;
        // The head commit of each deployment: its latest-finishing commit row (ties: the least
        // SHA), read per scope through the scope's index.
        let mut by_scope: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in &page {
            let scope: Option<String> = row.try_get(1)?;
            by_scope
                .entry(scope.unwrap_or_default())
                .or_default()
                .push(row.try_get(0)?);
        }
        let mut heads: HashMap<String, Head> = HashMap::new();
        for (scope, ids) in &by_scope {
            let wanted: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
            for row in sql::deployment_commits(scope, ids)
                .fetch_all(&mut *conn)
                .await?
            {
                let head = Head::read(&row)?;
                if !wanted.contains(head.deployment.as_str()) {
                    continue;
                }
                match heads.get(&head.deployment) {
                    Some(best) if !head.beats(best) => {}
                    _ => {
                        heads.insert(head.deployment.clone(), head);
                    }
                }
            }
        }
        let mut rows = Vec::with_capacity(page.len());
        for row in &page {
            let id: String = row.try_get(0)?;
            let started_ms: Millis = row.try_get(4)?;
            let finished_ms: Millis = row.try_get(5)?;
            let duration: Option<f64> = row.try_get(6)?;
            let head = heads.remove(&id);
            rows.push(HistoryRow {
                version: None,
                environment: row.try_get::<Option<String>, _>(2)?.unwrap_or_default(),
                result: row.try_get::<Option<String>, _>(3)?.unwrap_or_default(),
                started_ms,
                finished_ms,
                duration_sec: duration.map_or((finished_ms - started_ms) / 1000, |d| d as i64),
                triggered_by: row.try_get(7)?,
                head_sha: head.as_ref().map(|h| h.sha.clone()).unwrap_or_default(),
                head_message: head.as_ref().and_then(|h| h.message.clone()),
                head_author: head.and_then(|h| h.author),
                id,
            });
        }
        Ok((total, rows))
    }
}

/// What DevLake linked to a project's deployments.
#[derive(Default)]
struct Links {
    incidents: Vec<LinkedIncident>,
    restored: Vec<RestoredIncident>,
    changes: Vec<Change>,
}

/// A deployment's candidate head commit.
struct Head {
    deployment: String,
    sha: String,
    message: Option<String>,
    author: Option<String>,
    finished_ms: Option<Millis>,
}

impl Head {
    fn read(row: &MySqlRow) -> Result<Head, sqlx::Error> {
        Ok(Head {
            deployment: row.try_get::<Option<String>, _>(0)?.unwrap_or_default(),
            sha: row.try_get(1)?,
            message: row.try_get(2)?,
            author: row.try_get(3)?,
            finished_ms: row.try_get(4)?,
        })
    }

    fn beats(&self, other: &Head) -> bool {
        (self.finished_ms, std::cmp::Reverse(&self.sha))
            > (other.finished_ms, std::cmp::Reverse(&other.sha))
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
        self.bounded(self.load_facts(project, window, restored))
            .await
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
