//! Storage of the Che launcher: the simulated driver's workspaces (kept in the database when no
//! cluster is configured) and, with any driver, which principal each namespace belongs to.
//! The SQL is written once (sqlx binds `$N` on SQLite too; both have `ON CONFLICT` and `RETURNING`),
//! so one implementation generic over the backend serves both ([`SqlWorkspaceStore`]).

mod sql;

use std::sync::Arc;

use async_trait::async_trait;

use crate::db::{Database, StoreError};

pub use sql::SqlWorkspaceStore;

/// A simulated workspace as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredWorkspace {
    /// The workspace's id.
    pub id: String,
    /// The owner's subject.
    pub owner: String,
    /// Its namespace.
    pub namespace: String,
    /// Its name, unique in the namespace.
    pub name: String,
    /// Where its devfile was fetched from.
    pub devfile_url: String,
    /// The devfile's `metadata.name`.
    pub devfile_name: String,
    /// The devfile's `metadata.version`.
    pub devfile_version: String,
    /// Whether it should run (Che's `spec.started`).
    pub started: bool,
    /// Epoch ms of the last start or stop; the status follows from it and the configured delays.
    pub changed_at_ms: i64,
    /// When it was created (epoch ms).
    pub created_at_ms: i64,
    /// When it last started (epoch ms).
    pub last_used_ms: i64,
}

/// The simulated driver's use cases. Every lookup is scoped to the owner.
#[async_trait]
pub trait WorkspaceStore: Send + Sync + 'static {
    /// Adds `workspace`; `false` when its name is already used in its namespace.
    async fn insert(&self, workspace: &StoredWorkspace) -> Result<bool, StoreError>;
    /// The owner's workspaces, oldest first.
    async fn list(&self, owner: &str) -> Result<Vec<StoredWorkspace>, StoreError>;
    /// One of the owner's workspaces; `None` if absent or someone else's.
    async fn find(&self, owner: &str, id: &str) -> Result<Option<StoredWorkspace>, StoreError>;
    /// Sets `started` (and the change time, and on start the last-used time); `false` if absent.
    async fn set_started(
        &self,
        owner: &str,
        id: &str,
        started: bool,
        at_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Removes it; `false` if absent.
    async fn delete(&self, owner: &str, id: &str) -> Result<bool, StoreError>;
    /// Claims `namespace` for `username` unless someone has it: the user name it belongs to.
    async fn claim_namespace(
        &self,
        namespace: &str,
        username: &str,
        at_ms: i64,
    ) -> Result<String, StoreError>;
}

/// The store on `db`'s backend.
pub fn for_database(db: &Database) -> Arc<dyn WorkspaceStore> {
    match db {
        Database::Sqlite { pool, writer } => {
            Arc::new(SqlWorkspaceStore::new(pool.clone(), writer.clone()))
        }
        Database::Postgres(pool) => Arc::new(SqlWorkspaceStore::new(pool.clone(), pool.clone())),
    }
}

macro_rules! columns {
    () => {
        "id, owner, namespace, name, devfile_url, devfile_name, devfile_version, started, \
         changed_at_ms, created_at_ms, last_used_ms"
    };
}

const INSERT: &str = concat!(
    "INSERT INTO simulated_workspaces (",
    columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (namespace, name) DO NOTHING RETURNING id"
);
const SET_STARTED: &str = "UPDATE simulated_workspaces SET started = $3, changed_at_ms = $4, \
     last_used_ms = CASE WHEN $3 THEN $4 ELSE last_used_ms END WHERE owner = $1 AND id = $2 RETURNING id";
const DELETE: &str = "DELETE FROM simulated_workspaces WHERE owner = $1 AND id = $2 RETURNING id";

const LIST: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM simulated_workspaces WHERE owner = $1 ORDER BY created_at_ms, id"
);
const FIND: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM simulated_workspaces WHERE owner = $1 AND id = $2"
);

const CLAIM_NAMESPACE: &str = "INSERT INTO workspace_namespaces (namespace, username, claimed_at_ms) \
     VALUES ($1, $2, $3) ON CONFLICT (namespace) DO NOTHING";
const NAMESPACE_OWNER: &str = "SELECT username FROM workspace_namespaces WHERE namespace = $1";
