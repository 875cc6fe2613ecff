//! [`EntitySnapshot`] on either backend: one read transaction held for the statements of a read.

use async_trait::async_trait;
use sqlx::Transaction;

use super::dialect::CatalogSql;
use super::read::query_rows;
use super::{EntityRow, EntitySnapshot, RowQuery};
use crate::db::StoreError;
use crate::db::sql::{Columns, Statement};

/// A read transaction on a pooled connection; dropping it rolls back and returns the connection.
pub struct Snapshot<DB: CatalogSql> {
    pub(super) tx: Transaction<'static, DB>,
}

#[async_trait]
impl<DB: CatalogSql> EntitySnapshot for Snapshot<DB> {
    async fn query(&mut self, query: &RowQuery) -> Result<Vec<EntityRow>, StoreError> {
        query_rows::<DB>(&mut self.tx, query).await
    }

    async fn version(&mut self) -> Result<i64, StoreError> {
        let row = Statement::new("SELECT version FROM catalog_version WHERE id = 1")
            .fetch_one::<DB>(&mut self.tx)
            .await?;
        Ok(row.int(0)?)
    }
}
