//! [`DoraStore`] on either database: one implementation, generic over the [`Backend`], with the
//! statements of [`sql`](super::sql). The one difference is how a deployment is written
//! ([`DoraSql`]).

use async_trait::async_trait;
use sqlx::Pool;

use super::sql;
use super::{DoraStore, HistoryRow, ProjectIds};
use crate::db::StoreError;
use crate::db::sql::{Backend, Columns};
use crate::dora::calendar::{Day, Millis};
use crate::dora::metrics::{
    Change, LinkedIncident, ProdDeployment, ProjectFacts, RestoredIncident, Window,
    pull_request_cycle_minutes,
};
use crate::dora::model::{DeploymentRecord, IncidentRecord, PullRequestRecord};

/// What differs between the databases for this store.
pub trait DoraSql: Backend {
    /// Whether a deployment of a project already known to this process is written as one script
    /// ([`sql::sqlite_deployment_script`]): SQLite runs it in one round trip to its connection's
    /// thread instead of four; PostgreSQL prepares one statement at a time.
    const DEPLOYMENT_AS_ONE_SCRIPT: bool;
}

impl DoraSql for sqlx::Sqlite {
    const DEPLOYMENT_AS_ONE_SCRIPT: bool = true;
}

impl DoraSql for sqlx::Postgres {
    const DEPLOYMENT_AS_ONE_SCRIPT: bool = false;
}

/// [`DoraStore`] on either backend (`SqlDoraStore<Sqlite>`, `SqlDoraStore<Postgres>`).
pub struct SqlDoraStore<DB: DoraSql> {
    pool: Pool<DB>,
    /// Where writes go (on SQLite the database's one write connection; otherwise `pool`).
    writer: Pool<DB>,
    ids: ProjectIds,
}

impl<DB: DoraSql> SqlDoraStore<DB> {
    /// The store over `pool`, writing through `writer` (on SQLite the one write connection).
    pub fn new(pool: Pool<DB>, writer: Pool<DB>) -> Self {
        Self {
            pool,
            writer,
            ids: ProjectIds::default(),
        }
    }

    /// `project`'s id, created on `conn` when new; the caller remembers it once committed.
    async fn project_id_or_create(
        &self,
        conn: &mut DB::Connection,
        project: &str,
    ) -> Result<i64, StoreError> {
        if let Some(id) = self.ids.get(project) {
            return Ok(id);
        }
        let row = sql::upsert_project(project).fetch_one::<DB>(conn).await?;
        Ok(row.int(0)?)
    }

    /// `project`'s id, if anything was ever posted for it.
    async fn existing_project_id(
        &self,
        conn: &mut DB::Connection,
        project: &str,
    ) -> Result<Option<i64>, StoreError> {
        if let Some(id) = self.ids.get(project) {
            return Ok(Some(id));
        }
        let row = sql::project_id(project).fetch_optional::<DB>(conn).await?;
        Ok(row.map(|r| r.int(0)).transpose()?)
    }

    /// Saves a deployment in a transaction of several statements (any backend, any project, any
    /// number of commits).
    async fn save_deployment_in_transaction(
        &self,
        project: &str,
        record: &DeploymentRecord,
        now_ms: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let project_id = self.project_id_or_create(&mut tx, project).await?;
        for chunk in record.commits.chunks(sql::COMMITS_PER_INSERT) {
            sql::insert_commits(project_id, record, chunk)
                .execute::<DB>(&mut tx)
                .await?;
        }
        sql::upsert_deployment(project_id, record, now_ms)
            .execute::<DB>(&mut tx)
            .await?;
        tx.commit().await?;
        self.ids.remember(project, project_id);
        Ok(())
    }

    /// A deployment of a project already known to this process, as one script. It runs in its
    /// own task, so a request cancelled mid-way cannot return a connection to the pool with the
    /// transaction still open.
    async fn save_deployment_as_script(
        &self,
        project_id: i64,
        record: &DeploymentRecord,
        now_ms: Millis,
    ) -> Result<(), StoreError> {
        let script = sql::sqlite_deployment_script(project_id, record, now_ms);
        let pool = self.writer.clone();
        let written = tokio::spawn(async move {
            let mut conn = pool.acquire().await?;
            if let Err(e) = script.execute::<DB>(&mut conn).await {
                // Ends the transaction the script began (an error if it never began).
                let rollback = sqlx::query("ROLLBACK");
                let _ = rollback.execute(DB::on(&mut conn)).await;
                return Err(StoreError::from(e));
            }
            Ok(())
        })
        .await;
        written.unwrap_or_else(|e| {
            tracing::error!(error = %e, "the deployment write task failed");
            Err(StoreError::Backend(sqlx::Error::WorkerCrashed))
        })
    }
}

#[async_trait]
impl<DB: DoraSql> DoraStore for SqlDoraStore<DB> {
    async fn save_deployment(
        &self,
        project: &str,
        record: &DeploymentRecord,
        now_ms: Millis,
    ) -> Result<(), StoreError> {
        // The first deployment of a project, or one with more commits than one statement takes,
        // goes through the transaction of several statements.
        match self.ids.get(project) {
            Some(id)
                if DB::DEPLOYMENT_AS_ONE_SCRIPT
                    && record.commits.len() <= sql::COMMITS_PER_INSERT =>
            {
                self.save_deployment_as_script(id, record, now_ms).await
            }
            _ => {
                self.save_deployment_in_transaction(project, record, now_ms)
                    .await
            }
        }
    }

    async fn save_incident(
        &self,
        project: &str,
        record: &IncidentRecord,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let project_id = self.project_id_or_create(&mut tx, project).await?;
        sql::upsert_incident(project_id, record)
            .execute::<DB>(&mut tx)
            .await?;
        tx.commit().await?;
        self.ids.remember(project, project_id);
        Ok(())
    }

    async fn close_incident(
        &self,
        project: &str,
        issue_key: &str,
        now_ms: Millis,
    ) -> Result<bool, StoreError> {
        let mut conn = self.writer.acquire().await?;
        let changed = sql::close_incident(project, issue_key, now_ms)
            .execute::<DB>(&mut conn)
            .await?;
        Ok(changed > 0)
    }

    async fn save_pull_request(
        &self,
        project: &str,
        record: &PullRequestRecord,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let project_id = self.project_id_or_create(&mut tx, project).await?;
        sql::upsert_pull_request(project_id, record)
            .execute::<DB>(&mut tx)
            .await?;
        tx.commit().await?;
        self.ids.remember(project, project_id);
        Ok(())
    }

    async fn has_project(&self, project: &str) -> Result<bool, StoreError> {
        if self.ids.get(project).is_some() {
            return Ok(true);
        }
        let mut conn = self.pool.acquire().await?;
        Ok(self
            .existing_project_id(&mut conn, project)
            .await?
            .is_some())
    }

    async fn projects(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows = sql::all_projects().fetch_all::<DB>(&mut conn).await?;
        Ok(rows.iter().map(|r| r.text(0)).collect::<Result<_, _>>()?)
    }

    async fn facts(
        &self,
        project: &str,
        window: Window,
        restored: bool,
    ) -> Result<ProjectFacts, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let Some(id) = self.existing_project_id(&mut conn, project).await? else {
            return Ok(ProjectFacts::default());
        };
        let range = window.since(&window.previous());
        let activity = sql::activity(id).fetch_one::<DB>(&mut conn).await?;
        let (has_deployments, has_incidents) = (activity.int(0)? > 0, activity.int(1)? > 0);
        // Deployment days are whole days: load the range's days in full.
        let days = Window::days(Day::of(range.from_ms), Day::of(range.to_ms));
        let rows = sql::prod_deployments(id, days.from_ms, days.to_ms)
            .fetch_all::<DB>(&mut conn)
            .await?;
        let mut deployments = Vec::with_capacity(rows.len());
        let mut earliest_row: Option<Millis> = None;
        for row in &rows {
            let first = row.int(2)?;
            earliest_row = Some(earliest_row.map_or(first, |e| e.min(first)));
            deployments.push(ProdDeployment {
                id: row.text(0)?,
                finished_ms: row.int(1)?,
            });
        }
        let mut incidents = Vec::new();
        // Only incidents created after the earliest commit row of these deployments can be
        // linked to one of them.
        if let Some(earliest) = earliest_row.filter(|_| has_incidents) {
            let rows = sql::linked_incidents(id, earliest)
                .fetch_all::<DB>(&mut conn)
                .await?;
            for row in &rows {
                if let Some(deployment) = row.opt_text(1)? {
                    incidents.push(LinkedIncident {
                        deployment,
                        resolution_ms: row.opt_int(0)?,
                    });
                }
            }
        }
        let mut restored_incidents = Vec::new();
        if restored && has_incidents {
            let rows = sql::restored_incidents(id, range.from_ms, range.to_ms)
                .fetch_all::<DB>(&mut conn)
                .await?;
            for row in &rows {
                restored_incidents.push(RestoredIncident {
                    resolution_ms: row.int(0)?,
                    lead_time_minutes: row.opt_int(1)?,
                });
            }
        }
        let rows = sql::pull_request_changes(id, range.from_ms, range.to_ms)
            .fetch_all::<DB>(&mut conn)
            .await?;
        let mut changes = Vec::with_capacity(rows.len());
        for row in &rows {
            let (finished, created, merged) = (row.int(0)?, row.int(1)?, row.int(2)?);
            changes.push(Change::PullRequest {
                deployed_ms: finished,
                minutes: pull_request_cycle_minutes(row.opt_int(3)?, created, merged, finished),
            });
        }
        // Deployed commits stand in for pull requests in a window without any.
        let covered = |w: &Window| {
            changes.iter().any(
                |c| matches!(c, Change::PullRequest { deployed_ms, .. } if w.contains(*deployed_ms)),
            )
        };
        if !(covered(&window) && covered(&window.previous())) {
            let rows = sql::commit_changes(id, range.from_ms, range.to_ms)
                .fetch_all::<DB>(&mut conn)
                .await?;
            for row in &rows {
                let (sha, finished, authored) = (row.text(0)?, row.int(1)?, row.int(2)?);
                if let Some(minutes) = crate::dora::stats::ceil_minutes(authored, finished) {
                    changes.push(Change::Commit {
                        deployed_ms: finished,
                        sha,
                        minutes,
                    });
                }
            }
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
    ) -> Result<(i64, Vec<HistoryRow>), StoreError> {
        let mut conn = self.pool.acquire().await?;
        let Some(id) = self.existing_project_id(&mut conn, project).await? else {
            return Ok((0, Vec::new()));
        };
        let (count, page) = sql::history(id, environments, limit);
        let total = count.fetch_one::<DB>(&mut conn).await?.int(0)?;
        let rows = page.fetch_all::<DB>(&mut conn).await?;
        let rows = rows
            .iter()
            .map(|r| {
                Ok(HistoryRow {
                    id: r.text(0)?,
                    version: r.opt_text(1)?,
                    environment: r.text(2)?,
                    result: r.text(3)?,
                    started_ms: r.int(4)?,
                    finished_ms: r.int(5)?,
                    duration_sec: r.int(6)?,
                    triggered_by: r.opt_text(7)?,
                    head_sha: r.text(8)?,
                    head_message: r.opt_text(9)?,
                    head_author: r.opt_text(10)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok((total, rows))
    }
}
