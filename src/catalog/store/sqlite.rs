//! The catalog store on SQLite (SQL shared with PostgreSQL in [`super::sql`]).

use sqlx::SqlitePool;

pub struct SqliteCatalogStore {
    pool: SqlitePool,
    /// Where writes go (the database's one write connection).
    writer: SqlitePool,
    counts: super::CountCache,
}

impl SqliteCatalogStore {
    pub fn new(pool: SqlitePool, writer: SqlitePool) -> Self {
        Self {
            pool,
            writer,
            counts: super::CountCache::new(true),
        }
    }
}

super::sql::impl_catalog_store!(
    SqliteCatalogStore,
    sqlx::Sqlite,
    "BEGIN IMMEDIATE",
    "INSERT OR IGNORE INTO",
    // The one writer holds the database, so ids above the largest are unused.
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
     SELECT (SELECT COALESCE(MAX(id), 0) FROM catalog_entities) + i FROM n"
);
