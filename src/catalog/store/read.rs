//! [`EntityReads`] on either backend: queries and counts (SQL in [`query`](super::query)), entities
//! by ref or uid, facets and search values.

use async_trait::async_trait;

use super::dialect::CatalogSql;
use super::query::{entity_query, filter_condition};
use super::rows::{CHUNK, in_list};
use super::snapshot::Snapshot;
use super::{EntityReads, EntityRow, EntitySnapshot, RowQuery, SqlCatalogStore};
use crate::catalog::filter::Filter;
use crate::db::StoreError;
use crate::db::sql::{Columns, SqlBuilder, Statement};

#[async_trait]
impl<DB: CatalogSql> EntityReads for SqlCatalogStore<DB> {
    async fn query(&self, query: &RowQuery) -> Result<Vec<EntityRow>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        query_rows::<DB>(&mut conn, query).await
    }

    async fn count(&self, query: &RowQuery) -> Result<i64, StoreError> {
        let statement = entity_query::<DB>(query, true);
        let key = format!("{}{:?}", statement.sql.as_str(), statement.params);
        let generation = self.counts.generation();
        if let Some(count) = self.counts.get(&key, generation) {
            return Ok(count);
        }
        let mut conn = self.pool.acquire().await?;
        let count = statement.fetch_one::<DB>(&mut conn).await?.int(0)?;
        self.counts.put(key, generation, count);
        Ok(count)
    }

    async fn matches_at_least(&self, filter: &Filter, n: u64) -> Result<bool, StoreError> {
        let mut sql = SqlBuilder::default();
        let condition = filter_condition(&mut sql, filter, "e.id");
        let cap = n.min(i64::MAX as u64);
        let statement = sql.finish_with(format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM catalog_entities e WHERE {condition} LIMIT {cap}) q"
        ));
        let mut conn = self.pool.acquire().await?;
        let found = statement.fetch_one::<DB>(&mut conn).await?.int(0)?;
        Ok(found as u64 >= n)
    }

    async fn by_refs(&self, refs: &[String]) -> Result<Vec<(String, String)>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut out = Vec::new();
        for chunk in refs.chunks(CHUNK) {
            let rows = in_list(
                "SELECT entity_ref, body FROM catalog_entities WHERE entity_ref IN",
                chunk,
            )
            .fetch_all::<DB>(&mut conn)
            .await?;
            for row in &rows {
                out.push((row.text(0)?, row.text(1)?));
            }
        }
        Ok(out)
    }

    async fn by_uid(&self, uid: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = Statement::new("SELECT body FROM catalog_entities WHERE uid = $1")
            .bind(uid)
            .fetch_optional::<DB>(&mut conn)
            .await?;
        Ok(row.map(|r| r.text(0)).transpose()?)
    }

    async fn recently_changed(&self, limit: u32) -> Result<Vec<(String, i64)>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows = Statement::new(
            "SELECT body, changed_at FROM catalog_entities WHERE entity_ref NOT LIKE 'location:%' \
             ORDER BY changed_at DESC, id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all::<DB>(&mut conn)
        .await?;
        Ok(rows
            .iter()
            .map(|row| Ok((row.text(0)?, row.int(1)?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn facet(&self, key: &str, filter: &Filter) -> Result<Vec<(String, i64)>, StoreError> {
        let mut sql = SqlBuilder::default();
        let key = sql.placeholder(key.to_lowercase());
        let condition = filter_condition(&mut sql, filter, "s.entity_id");
        let statement = sql.finish_with(format!(
            "SELECT COALESCE(s.original_value, s.value) AS original, COUNT(DISTINCT s.entity_id) \
             FROM catalog_search s WHERE s.key = {key} AND s.value IS NOT NULL AND {condition} \
             GROUP BY original ORDER BY original"
        ));
        let mut conn = self.pool.acquire().await?;
        let rows = statement.fetch_all::<DB>(&mut conn).await?;
        Ok(rows
            .iter()
            .map(|row| Ok((row.text(0)?, row.int(1)?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn values_of(&self, keys: &[&str]) -> Result<Vec<(String, String, String)>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows = in_list(
            "SELECT e.uid, s.key, COALESCE(s.original_value, s.value) FROM catalog_search s \
             JOIN catalog_entities e ON e.id = s.entity_id WHERE s.value IS NOT NULL AND s.key IN",
            keys.iter().copied(),
        )
        .fetch_all::<DB>(&mut conn)
        .await?;
        Ok(rows
            .iter()
            .map(|row| Ok((row.text(0)?, row.text(1)?, row.text(2)?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    fn version(&self) -> Option<u64> {
        self.counts.version()
    }

    async fn snapshot(&self) -> Result<Box<dyn EntitySnapshot>, StoreError> {
        let tx = self.pool.begin_with(DB::BEGIN_READ).await?;
        Ok(Box::new(Snapshot::<DB> { tx }))
    }
}

/// The rows of `query` on `conn`.
pub(super) async fn query_rows<DB: CatalogSql>(
    conn: &mut DB::Connection,
    query: &RowQuery,
) -> Result<Vec<EntityRow>, StoreError> {
    let rows = entity_query::<DB>(query, false)
        .fetch_all::<DB>(conn)
        .await?;
    Ok(rows
        .iter()
        .map(|row| {
            Ok(EntityRow {
                uid: row.text(0)?,
                body: row.text(1)?,
                sort_value: row.opt_text(2)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?)
}
