//! [`WorkspaceStore`] on either backend: the SQL agrees, so one implementation generic over the
//! [`Backend`] serves both (`SqlWorkspaceStore<Sqlite>` and `SqlWorkspaceStore<Postgres>`), each
//! tested by the contract suite.

use async_trait::async_trait;
use sqlx::Pool;

use super::{
    CLAIM_NAMESPACE, DELETE, FIND, INSERT, LIST, NAMESPACE_OWNER, SET_STARTED, StoredWorkspace,
    WorkspaceStore,
};
use crate::db::StoreError;
use crate::db::sql::{Backend, Columns, Statement};

/// [`WorkspaceStore`] on either backend.
pub struct SqlWorkspaceStore<DB: Backend> {
    pool: Pool<DB>,
    /// Where writes go (on SQLite the database's one write connection; otherwise `pool`).
    writer: Pool<DB>,
}

impl<DB: Backend> SqlWorkspaceStore<DB> {
    /// The store over `pool`, writing through `writer` (on SQLite the one write connection).
    pub fn new(pool: Pool<DB>, writer: Pool<DB>) -> Self {
        Self { pool, writer }
    }
}

/// A row of `columns!()`, in order.
fn stored(row: &impl Columns) -> Result<StoredWorkspace, sqlx::Error> {
    Ok(StoredWorkspace {
        id: row.text(0)?,
        owner: row.text(1)?,
        namespace: row.text(2)?,
        name: row.text(3)?,
        devfile_url: row.text(4)?,
        devfile_name: row.text(5)?,
        devfile_version: row.text(6)?,
        started: row.flag(7)?,
        changed_at_ms: row.int(8)?,
        created_at_ms: row.int(9)?,
        last_used_ms: row.int(10)?,
    })
}

#[async_trait]
impl<DB: Backend> WorkspaceStore for SqlWorkspaceStore<DB> {
    async fn insert(&self, w: &StoredWorkspace) -> Result<bool, StoreError> {
        let mut conn = self.writer.acquire().await?;
        let inserted = Statement::new(INSERT)
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
            .fetch_optional::<DB>(&mut conn)
            .await?;
        Ok(inserted.is_some())
    }

    async fn list(&self, owner: &str) -> Result<Vec<StoredWorkspace>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows = Statement::new(LIST)
            .bind(owner)
            .fetch_all::<DB>(&mut conn)
            .await?;
        Ok(rows.iter().map(stored).collect::<Result<_, _>>()?)
    }

    async fn find(&self, owner: &str, id: &str) -> Result<Option<StoredWorkspace>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = Statement::new(FIND)
            .bind(owner)
            .bind(id)
            .fetch_optional::<DB>(&mut conn)
            .await?;
        Ok(row.as_ref().map(stored).transpose()?)
    }

    async fn set_started(
        &self,
        owner: &str,
        id: &str,
        started: bool,
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut conn = self.writer.acquire().await?;
        let updated = Statement::new(SET_STARTED)
            .bind(owner)
            .bind(id)
            .bind(started)
            .bind(at_ms)
            .fetch_optional::<DB>(&mut conn)
            .await?;
        Ok(updated.is_some())
    }

    async fn delete(&self, owner: &str, id: &str) -> Result<bool, StoreError> {
        let mut conn = self.writer.acquire().await?;
        let deleted = Statement::new(DELETE)
            .bind(owner)
            .bind(id)
            .fetch_optional::<DB>(&mut conn)
            .await?;
        Ok(deleted.is_some())
    }

    async fn claim_namespace(
        &self,
        namespace: &str,
        username: &str,
        at_ms: i64,
    ) -> Result<String, StoreError> {
        let mut conn = self.writer.acquire().await?;
        Statement::new(CLAIM_NAMESPACE)
            .bind(namespace)
            .bind(username)
            .bind(at_ms)
            .execute::<DB>(&mut conn)
            .await?;
        // Rows are never updated: what the writer sees now is final.
        let row = Statement::new(NAMESPACE_OWNER)
            .bind(namespace)
            .fetch_one::<DB>(&mut conn)
            .await?;
        let owner = row.text(0)?;
        Ok(owner)
    }
}
