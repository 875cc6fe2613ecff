//! The catalog store on SQLite (SQL shared with PostgreSQL in [`super::sql`]).

use sqlx::SqlitePool;

pub struct SqliteCatalogStore {
    pool: SqlitePool,
    /// Where writes go (the database's one write connection).
    writer: SqlitePool,
}

impl SqliteCatalogStore {
    pub fn new(pool: SqlitePool, writer: SqlitePool) -> Self {
        Self { pool, writer }
    }
}

crate::impl_catalog_store!(SqliteCatalogStore, sqlx::Sqlite, "BEGIN IMMEDIATE");
