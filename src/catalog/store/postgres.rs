//! The catalog store on PostgreSQL (SQL shared with SQLite in [`super::sql`]).

use sqlx::PgPool;

pub struct PgCatalogStore {
    pool: PgPool,
    /// Where writes go (the same pool).
    writer: PgPool,
}

impl PgCatalogStore {
    pub fn new(pool: PgPool, writer: PgPool) -> Self {
        Self { pool, writer }
    }
}

crate::impl_catalog_store!(PgCatalogStore, sqlx::Postgres, "BEGIN");
