//! [`DoraStore`](super::DoraStore) on SQLite: the shared SQL of `store.rs`.

use sqlx::SqlitePool;

pub struct SqliteDoraStore {
    pool: SqlitePool,
}

impl SqliteDoraStore {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

super::dora_store!(SqliteDoraStore);
