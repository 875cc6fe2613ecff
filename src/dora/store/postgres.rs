//! [`DoraStore`](super::DoraStore) on PostgreSQL: the shared SQL of `store.rs`.

use sqlx::PgPool;

pub struct PgDoraStore {
    pool: PgPool,
    /// The same pool: PostgreSQL takes concurrent writers.
    writer: PgPool,
    ids: super::ProjectIds,
}

impl PgDoraStore {
    pub fn new(pool: PgPool) -> Self {
        Self {
            writer: pool.clone(),
            pool,
            ids: super::ProjectIds::default(),
        }
    }
}

super::shared::dora_store!(PgDoraStore, sqlx::Postgres);

impl PgDoraStore {
    async fn write_deployment(
        &self,
        project: &str,
        record: &crate::dora::model::DeploymentRecord,
        now_ms: i64,
    ) -> Result<(), crate::db::StoreError> {
        self.save_deployment_in_transaction(project, record, now_ms)
            .await
    }
}
