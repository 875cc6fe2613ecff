//! [`Locations`] on either backend: registered locations, their processing state and the
//! validators of the files they last read.

use async_trait::async_trait;

use super::dialect::CatalogSql;
use super::{LocationResult, Locations, NewLocation, SqlCatalogStore};
use crate::catalog::model::{Location, LocationSpec, LocationStatus, LocationType};
use crate::catalog::read::Validators;
use crate::db::StoreError;
use crate::db::sql::{Columns, Statement};

/// The columns [`location`] reads, in order.
const LOCATION_COLUMNS: &str =
    "id, type, target, status, errors, last_refreshed_at, next_refresh_at, created_at";

fn location(row: &impl Columns) -> Result<Location, sqlx::Error> {
    let kind = row.text(1)?;
    let errors = row.text(4)?;
    Ok(Location {
        id: row.text(0)?,
        spec: LocationSpec {
            kind: LocationType::parse(&kind).unwrap_or(LocationType::Url),
            target: row.text(2)?,
        },
        status: LocationStatus::parse(&row.text(3)?),
        errors: serde_json::from_str(&errors).unwrap_or_default(),
        last_refreshed_at: row.opt_int(5)?,
        next_refresh_at: row.int(6)?,
        created_at: row.int(7)?,
    })
}

/// `SELECT <location columns> FROM catalog_locations <rest>`.
fn select_locations(rest: &str) -> Statement {
    Statement::new(sqlx::AssertSqlSafe(format!(
        "SELECT {LOCATION_COLUMNS} FROM catalog_locations {rest}"
    )))
}

#[async_trait]
impl<DB: CatalogSql> Locations for SqlCatalogStore<DB> {
    async fn create_location(&self, l: &NewLocation) -> Result<bool, StoreError> {
        let mut conn = self.writer.acquire().await?;
        let created = Statement::new(
            "INSERT INTO catalog_locations (id, type, target, status, errors, created_at, next_refresh_at) \
             VALUES ($1, $2, $3, 'processing', '[]', $4, $4) ON CONFLICT (type, target) DO NOTHING",
        )
        .bind(&l.id)
        .bind(l.spec.kind.as_str())
        .bind(&l.spec.target)
        .bind(l.now)
        .execute::<DB>(&mut conn)
        .await?;
        Ok(created == 1)
    }

    async fn update_location(
        &self,
        id: &str,
        spec: &LocationSpec,
        now: i64,
    ) -> Result<Option<bool>, StoreError> {
        let mut conn = self.writer.acquire().await?;
        let updated = Statement::new(
            "UPDATE catalog_locations SET type = $1, target = $2, status = 'processing', errors = '[]', \
             validators = '{}', next_refresh_at = $3 WHERE id = $4",
        )
        .bind(spec.kind.as_str())
        .bind(&spec.target)
        .bind(now)
        .bind(id)
        .execute::<DB>(&mut conn)
        .await;
        match updated {
            Ok(updated) => Ok((updated == 1).then_some(true)),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(Some(false)),
            Err(e) => Err(e.into()),
        }
    }

    async fn location(&self, id: &str) -> Result<Option<Location>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = select_locations("WHERE id = $1")
            .bind(id)
            .fetch_optional::<DB>(&mut conn)
            .await?;
        Ok(row.as_ref().map(location).transpose()?)
    }

    async fn location_by_spec(&self, spec: &LocationSpec) -> Result<Option<Location>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = select_locations("WHERE type = $1 AND target = $2")
            .bind(spec.kind.as_str())
            .bind(&spec.target)
            .fetch_optional::<DB>(&mut conn)
            .await?;
        Ok(row.as_ref().map(location).transpose()?)
    }

    async fn locations(&self) -> Result<Vec<Location>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows = select_locations("ORDER BY created_at, id")
            .fetch_all::<DB>(&mut conn)
            .await?;
        Ok(rows.iter().map(location).collect::<Result<_, _>>()?)
    }

    async fn location_validators(&self, id: &str) -> Result<Validators, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = Statement::new("SELECT validators FROM catalog_locations WHERE id = $1")
            .bind(id)
            .fetch_optional::<DB>(&mut conn)
            .await?;
        let text = row.map(|r| r.text(0)).transpose()?;
        Ok(text
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default())
    }

    async fn due_locations(&self, now: i64, limit: i64) -> Result<Vec<Location>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows = select_locations(
            "WHERE next_refresh_at <= $1 AND (status <> 'processing' OR NOT EXISTS (SELECT 1 FROM leases l \
             WHERE l.name = 'catalog:location:' || catalog_locations.id AND l.expires_at_ms > $1)) \
             ORDER BY next_refresh_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all::<DB>(&mut conn)
        .await?;
        Ok(rows.iter().map(location).collect::<Result<_, _>>()?)
    }

    async fn schedule_location(&self, id: &str, now: i64) -> Result<(), StoreError> {
        let mut conn = self.writer.acquire().await?;
        Statement::new("UPDATE catalog_locations SET next_refresh_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute::<DB>(&mut conn)
            .await?;
        Ok(())
    }

    async fn reprocess_location(&self, id: &str, now: i64) -> Result<(), StoreError> {
        let mut conn = self.writer.acquire().await?;
        Statement::new(
            "UPDATE catalog_locations SET next_refresh_at = $1, validators = '{}' WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute::<DB>(&mut conn)
        .await?;
        Ok(())
    }

    async fn finish_location(&self, id: &str, r: &LocationResult) -> Result<(), StoreError> {
        let errors = serde_json::to_string(&r.errors).unwrap_or_else(|_| "[]".into());
        let validators = r
            .validators
            .as_ref()
            .map(|v| serde_json::to_string(v).unwrap_or_else(|_| "{}".into()));
        let mut conn = self.writer.acquire().await?;
        Statement::new(
            "UPDATE catalog_locations SET status = $1, errors = $2, validators = COALESCE($3, validators), \
             last_refreshed_at = $4, next_refresh_at = $5 WHERE id = $6",
        )
        .bind(r.status.as_str())
        .bind(errors)
        .bind(validators)
        .bind(r.refreshed_at)
        .bind(r.next_refresh_at)
        .bind(id)
        .execute::<DB>(&mut conn)
        .await?;
        Ok(())
    }

    async fn owner_location(&self, entity_ref: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = Statement::new("SELECT location_id FROM catalog_entities WHERE entity_ref = $1")
            .bind(entity_ref)
            .fetch_optional::<DB>(&mut conn)
            .await?;
        Ok(row.map(|r| r.text(0)).transpose()?)
    }
}
