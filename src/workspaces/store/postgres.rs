//! [`WorkspaceStore`] on PostgreSQL.

use async_trait::async_trait;
use sqlx::PgPool;

use super::{DELETE, FIND, INSERT, LIST, SET_STARTED, StoredWorkspace, WorkspaceStore};
use crate::db::StoreError;

pub struct PgWorkspaceStore {
    pool: PgPool,
}

impl PgWorkspaceStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl WorkspaceStore for PgWorkspaceStore {
    async fn insert(&self, w: &StoredWorkspace) -> Result<bool, StoreError> {
        let done = sqlx::query(INSERT)
            .bind(&w.id)
            .bind(&w.owner)
            .bind(&w.namespace)
            .bind(&w.name)
            .bind(&w.devfile_url)
            .bind(&w.devfile_name)
            .bind(&w.devfile_version)
            .bind(w.started)
            .bind(w.changed_at_ms)
            .bind(w.created_at_ms)
            .bind(w.last_used_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn list(&self, owner: &str) -> Result<Vec<StoredWorkspace>, StoreError> {
        Ok(sqlx::query_as(LIST)
            .bind(owner)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn find(&self, owner: &str, id: &str) -> Result<Option<StoredWorkspace>, StoreError> {
        Ok(sqlx::query_as(FIND)
            .bind(owner)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn set_started(
        &self,
        owner: &str,
        id: &str,
        started: bool,
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(SET_STARTED)
            .bind(owner)
            .bind(id)
            .bind(started)
            .bind(at_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete(&self, owner: &str, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(DELETE)
            .bind(owner)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
