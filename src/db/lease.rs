//! Named, expiring leases, so that one replica at a time does a piece of background work.
//! The smallest example of how a store is laid out: a trait of use cases, and one
//! implementation generic over the [`Backend`] (see [`sql`](super::sql)).

use std::time::Duration;

use async_trait::async_trait;
use sqlx::Pool;

use super::StoreError;
use super::sql::{Backend, Columns, Statement};

/// Milliseconds since the Unix epoch, as stored.
pub type EpochMillis = i64;

/// Who holds a lease and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The lease's name (e.g. `catalog:location:<id>`).
    pub name: String,
    /// Who holds it (a replica's id).
    pub holder: String,
    /// When it expires unless renewed.
    pub expires_at_ms: EpochMillis,
}

/// Leases, on either database ([`SqlLeaseStore`]).
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
    /// Gives up every lease held by an earlier run of this instance (holder `<instance>/<run>`
    /// with another run than `run`): that run has ended, so nothing holds them any more.
    /// Returns how many were given up.
    async fn release_earlier_runs(&self, instance: &str, run: &str) -> Result<u64, StoreError>;
}

/// This server's lasting name, kept in `<data_dir>/instance-id` (made on first start), so a run
/// can tell its leases from those its previous run left when it stopped without releasing them.
/// Without a data directory (it is never created for this), or one that cannot be written, the
/// name is this run's only: a previous run's leases then end when they expire.
pub fn instance_id(data_dir: &std::path::Path) -> String {
    let path = data_dir.join("instance-id");
    let valid = |id: &str| {
        (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if let Ok(text) = std::fs::read_to_string(&path)
        && valid(text.trim())
    {
        return text.trim().to_owned();
    }
    let id = uuid::Uuid::new_v4().to_string();
    if !data_dir.is_dir() {
        return id;
    }
    if let Err(e) = std::fs::write(&path, &id) {
        tracing::warn!(path = %path.display(), error = %e, "cannot keep this server's instance id; leases of a previous run will wait for their expiry");
    }
    id
}

// The dialects agree on this SQL (sqlx binds `$N` on SQLite too), so it is written once.
const ACQUIRE: &str = "INSERT INTO leases (name, holder, expires_at_ms) VALUES ($1, $2, $3) \
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms \
     WHERE leases.holder = excluded.holder OR leases.expires_at_ms <= $4 \
     RETURNING holder";
const RELEASE: &str = "DELETE FROM leases WHERE name = $1 AND holder = $2 RETURNING name";
const CURRENT: &str =
    "SELECT name, holder, expires_at_ms FROM leases WHERE name = $1 AND expires_at_ms > $2";
const RELEASE_EARLIER_RUNS: &str =
    "DELETE FROM leases WHERE holder LIKE $1 ESCAPE '\\' AND holder <> $2 RETURNING name";

fn expiry(now: EpochMillis, ttl: Duration) -> EpochMillis {
    now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX))
}

/// [`LeaseStore`] on either backend: the SQL is the same, so one implementation serves both
/// (`SqlLeaseStore<Sqlite>` and `SqlLeaseStore<Postgres>`), each tested by the contract suite.
pub struct SqlLeaseStore<DB: Backend> {
    pool: Pool<DB>,
}

impl<DB: Backend> SqlLeaseStore<DB> {
    /// Leases over `pool` (on SQLite the one write connection).
    pub fn new(pool: Pool<DB>) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl<DB: Backend> LeaseStore for SqlLeaseStore<DB> {
    async fn try_acquire(
        &self,
        name: &str,
        holder: &str,
        now: EpochMillis,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = Statement::new(ACQUIRE)
            .bind(name)
            .bind(holder)
            .bind(expiry(now, ttl))
            .bind(now)
            .fetch_optional::<DB>(&mut conn)
            .await?;
        Ok(row.is_some())
    }

    async fn release(&self, name: &str, holder: &str) -> Result<bool, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = Statement::new(RELEASE)
            .bind(name)
            .bind(holder)
            .fetch_optional::<DB>(&mut conn)
            .await?;
        Ok(row.is_some())
    }

    async fn current(&self, name: &str, now: EpochMillis) -> Result<Option<Lease>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = Statement::new(CURRENT)
            .bind(name)
            .bind(now)
            .fetch_optional::<DB>(&mut conn)
            .await?;
        let lease = |row: &DB::Row| {
            Ok::<_, sqlx::Error>(Lease {
                name: row.text(0)?,
                holder: row.text(1)?,
                expires_at_ms: row.int(2)?,
            })
        };
        Ok(row.as_ref().map(lease).transpose()?)
    }

    async fn release_earlier_runs(&self, instance: &str, run: &str) -> Result<u64, StoreError> {
        let escaped = instance
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let mut conn = self.pool.acquire().await?;
        let released = Statement::new(RELEASE_EARLIER_RUNS)
            .bind(format!("{escaped}/%"))
            .bind(format!("{instance}/{run}"))
            .fetch_all::<DB>(&mut conn)
            .await?;
        Ok(released.len() as u64)
    }
}
