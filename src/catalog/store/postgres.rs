//! The catalog store on PostgreSQL (SQL shared with SQLite in [`super::sql`]).

use sqlx::PgPool;

pub struct PgCatalogStore {
    pool: PgPool,
}

impl PgCatalogStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

crate::impl_catalog_store!(PgCatalogStore, sqlx::Postgres, "BEGIN");
