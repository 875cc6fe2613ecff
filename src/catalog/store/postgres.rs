//! The catalog store on PostgreSQL (SQL shared with SQLite in [`super::sql`]).

use sqlx::PgPool;

pub struct PgCatalogStore {
    pool: PgPool,
    /// Where writes go (the same pool).
    writer: PgPool,
    counts: super::CountCache,
}

impl PgCatalogStore {
    pub fn new(pool: PgPool, writer: PgPool) -> Self {
        Self {
            pool,
            writer,
            counts: super::CountCache::new(false),
        }
    }
}

super::sql::impl_catalog_store!(
    PgCatalogStore,
    sqlx::Postgres,
    "BEGIN",
    "INSERT INTO",
    // Replicas write at once: ids come from a sequence.
    "SELECT nextval('catalog_entity_ids') FROM generate_series(1, $1)"
);
