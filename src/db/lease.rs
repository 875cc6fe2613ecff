//! Named, expiring leases, so that one replica at a time does a piece of background work.
//! This is also the reference for how a feature store is laid out: a trait of use cases, one
//! implementation per backend, SQL written once where the dialects agree.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::{Database, Decode, Encode, Executor, FromRow, IntoArguments, Pool, Type};

use super::StoreError;

/// Milliseconds since the Unix epoch, as stored.
pub type EpochMillis = i64;

/// Who holds a lease and until when.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    pub expires_at_ms: EpochMillis,
}

#[async_trait]
pub trait LeaseStore: Send + Sync + 'static {
    /// Takes (or renews) lease `name` for `holder` until `now + ttl`, unless another holder has it
    /// and it has not expired. Returns whether `holder` holds it now. Atomic across replicas.
    async fn try_acquire(
        &self,
        name: &str,
        holder: &str,
        now: EpochMillis,
        ttl: Duration,
    ) -> Result<bool, StoreError>;
    /// Gives the lease up if `holder` has it; returns whether it did.
    async fn release(&self, name: &str, holder: &str) -> Result<bool, StoreError>;
    /// The current, unexpired lease on `name`, if any.
    async fn current(&self, name: &str, now: EpochMillis) -> Result<Option<Lease>, StoreError>;
}

// The dialects agree on this SQL (sqlx binds `$N` on SQLite too), so it is written once.
const ACQUIRE: &str = "INSERT INTO leases (name, holder, expires_at_ms) VALUES ($1, $2, $3) \
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms \
     WHERE leases.holder = excluded.holder OR leases.expires_at_ms <= $4 \
     RETURNING holder";
const RELEASE: &str = "DELETE FROM leases WHERE name = $1 AND holder = $2 RETURNING name";
const CURRENT: &str =
    "SELECT name, holder, expires_at_ms FROM leases WHERE name = $1 AND expires_at_ms > $2";

fn expiry(now: EpochMillis, ttl: Duration) -> EpochMillis {
    now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX))
}

/// [`LeaseStore`] on either backend: the SQL is the same, so one implementation serves both
/// (`SqlLeaseStore<Sqlite>` and `SqlLeaseStore<Postgres>`), each tested by the contract suite.
pub struct SqlLeaseStore<DB: Database> {
    pool: Pool<DB>,
}

impl<DB: Database> SqlLeaseStore<DB> {
    pub fn new(pool: Pool<DB>) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl<DB> LeaseStore for SqlLeaseStore<DB>
where
    DB: Database,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    String: for<'r> Decode<'r, DB> + Type<DB>,
    (String,): for<'r> FromRow<'r, DB::Row>,
    Lease: for<'r> FromRow<'r, DB::Row>,
{
    async fn try_acquire(
        &self,
        name: &str,
        holder: &str,
        now: EpochMillis,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(ACQUIRE)
            .bind(name)
            .bind(holder)
            .bind(expiry(now, ttl))
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    async fn release(&self, name: &str, holder: &str) -> Result<bool, StoreError> {
        let released: Option<(String,)> = sqlx::query_as(RELEASE)
            .bind(name)
            .bind(holder)
            .fetch_optional(&self.pool)
            .await?;
        Ok(released.is_some())
    }

    async fn current(&self, name: &str, now: EpochMillis) -> Result<Option<Lease>, StoreError> {
        Ok(sqlx::query_as(CURRENT)
            .bind(name)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?)
    }
}
