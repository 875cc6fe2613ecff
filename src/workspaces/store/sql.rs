//! [`WorkspaceStore`] on either backend: the SQL agrees, so one implementation generic over
//! `sqlx::Database` serves both (`SqlWorkspaceStore<Sqlite>` and `SqlWorkspaceStore<Postgres>`),
//! each tested by the contract suite.

use async_trait::async_trait;
use sqlx::{Database, Decode, Encode, Executor, FromRow, IntoArguments, Pool, Type};

use super::{DELETE, FIND, INSERT, LIST, SET_STARTED, StoredWorkspace, WorkspaceStore};
use crate::db::StoreError;

pub struct SqlWorkspaceStore<DB: Database> {
    pool: Pool<DB>,
    /// Where writes go (on SQLite the database's one write connection; otherwise `pool`).
    writer: Pool<DB>,
}

impl<DB: Database> SqlWorkspaceStore<DB> {
    pub fn new(pool: Pool<DB>, writer: Pool<DB>) -> Self {
        Self { pool, writer }
    }
}

#[async_trait]
impl<DB> WorkspaceStore for SqlWorkspaceStore<DB>
where
    DB: Database,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    bool: for<'q> Encode<'q, DB> + Type<DB>,
    String: for<'r> Decode<'r, DB> + Type<DB>,
    (String,): for<'r> FromRow<'r, DB::Row>,
    StoredWorkspace: for<'r> FromRow<'r, DB::Row>,
{
    async fn insert(&self, w: &StoredWorkspace) -> Result<bool, StoreError> {
        let inserted: Option<(String,)> = sqlx::query_as(INSERT)
            .bind(w.id.as_str())
            .bind(w.owner.as_str())
            .bind(w.namespace.as_str())
            .bind(w.name.as_str())
            .bind(w.devfile_url.as_str())
            .bind(w.devfile_name.as_str())
            .bind(w.devfile_version.as_str())
            .bind(w.started)
            .bind(w.changed_at_ms)
            .bind(w.created_at_ms)
            .bind(w.last_used_ms)
            .fetch_optional(&self.writer)
            .await?;
        Ok(inserted.is_some())
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
        let updated: Option<(String,)> = sqlx::query_as(SET_STARTED)
            .bind(owner)
            .bind(id)
            .bind(started)
            .bind(at_ms)
            .fetch_optional(&self.writer)
            .await?;
        Ok(updated.is_some())
    }

    async fn delete(&self, owner: &str, id: &str) -> Result<bool, StoreError> {
        let deleted: Option<(String,)> = sqlx::query_as(DELETE)
            .bind(owner)
            .bind(id)
            .fetch_optional(&self.writer)
            .await?;
        Ok(deleted.is_some())
    }
}
