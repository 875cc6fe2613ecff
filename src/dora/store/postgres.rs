//! [`DoraStore`](super::DoraStore) on PostgreSQL: the shared SQL of `store.rs`.

use sqlx::PgPool;

pub struct PgDoraStore {
    pool: PgPool,
    ids: super::ProjectIds,
}

impl PgDoraStore {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            ids: super::ProjectIds::default(),
        }
    }
}

super::shared::dora_store!(PgDoraStore, sqlx::Postgres);
