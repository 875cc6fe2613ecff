//! [`DoraStore`](super::DoraStore) on PostgreSQL: the shared SQL of `store.rs`.

use sqlx::PgPool;

pub struct PgDoraStore {
    pool: PgPool,
}

impl PgDoraStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

super::dora_store!(PgDoraStore);
