//! The catalog store on SQLite (SQL shared with PostgreSQL in [`super::sql`]).

use sqlx::SqlitePool;

pub struct SqliteCatalogStore {
    pool: SqlitePool,
}

impl SqliteCatalogStore {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

crate::impl_catalog_store!(SqliteCatalogStore, sqlx::Sqlite, "BEGIN IMMEDIATE");
