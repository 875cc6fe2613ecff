//! [`DoraStore`](super::DoraStore) on SQLite: the shared SQL of `store.rs`.

use sqlx::SqlitePool;

use super::sql;
use crate::db::StoreError;
use crate::dora::model::DeploymentRecord;

pub struct SqliteDoraStore {
    pool: SqlitePool,
    /// The database's one write connection.
    writer: SqlitePool,
    ids: super::ProjectIds,
}

impl SqliteDoraStore {
    pub fn new(pool: SqlitePool, writer: SqlitePool) -> Self {
        Self {
            pool,
            writer,
            ids: super::ProjectIds::default(),
        }
    }
}

super::shared::dora_store!(SqliteDoraStore, sqlx::Sqlite);

impl SqliteDoraStore {
    /// A deployment of a project already known to this process, in one round trip to SQLite's
    /// connection thread ([`sql::sqlite_deployment_script`]); the first deployment of a project,
    /// or one with more commits than one statement takes, goes through the transaction of
    /// several statements. The script runs in its own task, so a request cancelled mid-way
    /// cannot return a connection to the pool with the transaction still open.
    async fn write_deployment(
        &self,
        project: &str,
        record: &DeploymentRecord,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let project_id = match self.ids.get(project) {
            Some(id) if record.commits.len() <= sql::COMMITS_PER_INSERT => id,
            _ => {
                return self
                    .save_deployment_in_transaction(project, record, now_ms)
                    .await;
            }
        };
        let head = &record.commits[0];
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql::sqlite_deployment_script(
            record.commits.len(),
        )))
        .bind(project_id)
        .bind(record.id.clone())
        .bind(record.name.clone())
        .bind(record.display_title.clone())
        .bind(record.result.clone())
        .bind(record.environment.clone())
        .bind(record.original_environment.clone())
        .bind(record.created_ms)
        .bind(record.started_ms)
        .bind(record.finished_ms)
        .bind(record.duration_sec)
        .bind(record.version.clone())
        .bind(record.triggered_by.clone())
        .bind(head.commit_sha.clone())
        .bind(head.commit_msg.clone())
        .bind(head.author.clone())
        .bind(now_ms);
        for c in &record.commits {
            query = query
                .bind(c.repo_url.clone())
                .bind(c.commit_sha.clone())
                .bind(c.repo_id.clone())
                .bind(c.ref_name.clone())
                .bind(c.commit_msg.clone())
                .bind(c.name.clone())
                .bind(c.display_title.clone())
                .bind(c.result.clone())
                .bind(c.status.clone())
                .bind(record.environment.clone())
                .bind(c.created_ms)
                .bind(c.started_ms)
                .bind(c.finished_ms)
                .bind(c.author.clone())
                .bind(c.authored_ms)
                .bind(i32::from(c.qualifies(&record.environment)));
        }
        let pool = self.writer.clone();
        let written = tokio::spawn(async move {
            let mut conn = pool.acquire().await?;
            if let Err(e) = query.execute(&mut *conn).await {
                // Ends the transaction the script began (an error if it never began).
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
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
