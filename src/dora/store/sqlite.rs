//! [`DoraStore`](super::DoraStore) on SQLite: the shared SQL of `store.rs`.

use sqlx::SqlitePool;

pub struct SqliteDoraStore {
    pool: SqlitePool,
    ids: super::ProjectIds,
}

impl SqliteDoraStore {
    pub fn new(pool: SqlitePool) -> Self {
        Self {
            pool,
            ids: super::ProjectIds::default(),
        }
    }
}

super::shared::dora_store!(SqliteDoraStore, sqlx::Sqlite);
