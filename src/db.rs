//! One [`Database`] handle for either backend. Features define a store trait each, with a SQLite and
//! a PostgreSQL implementation (see [`lease`] for the pattern); the same contract tests run against
//! both real databases (`tests/suite/store_contract.rs`).

pub mod lease;
pub mod sql;

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::config::{DatabaseConfig, DatabaseUrl, redact_url};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// The SQLite write connection's page cache (`-N` is N KiB): only its own writes change the
/// database, so its cache stays valid and the index pages webhooks and catalog writes touch are
/// read once. `cargo bench --bench dora` with SQLite's defaults (2 MiB, 1,000-page checkpoints):
/// 1,501 deployments/s one at a time, 1,625/s with 16 posters; with 32 MiB and 20,000-page
/// checkpoints 1,930/s and 2,507/s. 64 MiB was no faster and raised the catalog's peak memory.
/// A 50,000-entity ingestion fills it in its first seconds, while the location's entities are all
/// still held: 24 MiB instead of 32 kept that peak under 200 MB (194 MB against 200 MB, both
/// with one jemalloc arena) for 5 % of the ingestion's speed (docs/PERFORMANCE.md).
const WRITER_CACHE_KIB: &str = "-24576";
/// WAL pages after which the write connection checkpoints itself, inside a commit: a backstop
/// only (1 GiB of 4 KiB pages). Checkpoints normally run from [`Database::checkpoint_until`],
/// every [`CHECKPOINT_EVERY`], off the write connection: a commit that checkpoints copies the
/// whole WAL before the location it stores can be ready. One transaction of 50,000 entities
/// (one file each) writes about 560 MB of WAL, more than the 100,000 pages this was: its commit
/// took 1.0 s, 0.2 s now; the background task copies the WAL in the next seconds.
const WRITER_CHECKPOINT_PAGES: &str = "262144";
/// Bytes of WAL file kept once it has been checkpointed and starts over: a large ingestion
/// leaves no WAL file of its size behind.
const WAL_KEPT_BYTES: &str = "67108864";
/// How often committed WAL pages are copied into the SQLite database.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// SQLite virtual-machine steps between two checks of a read's deadline (a check reads the
/// clock: a few nanoseconds every few hundred microseconds of work).
const PROGRESS_STEPS: i32 = 10_000;

/// A connection pool to the configured database.
#[derive(Clone, Debug)]
pub enum Database {
    /// `pool` for reads (several connections); `writer`, one connection, for every write.
    /// SQLite allows one writer at a time: writers queue for that connection instead of
    /// retrying on a busy lock, and its page cache stays warm (a connection's cache is
    /// dropped whenever another connection has written).
    Sqlite {
        /// Several connections, for reads.
        pool: SqlitePool,
        /// The one connection every write goes through.
        writer: SqlitePool,
    },
    /// A pool to PostgreSQL, for reads and writes: replicas may share the database.
    Postgres(PgPool),
}

/// Failures while opening or migrating the database, worded for the operator.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The SQLite file cannot be opened.
    #[error("cannot open the SQLite database at {path}: {source}")]
    Sqlite {
        /// The file.
        path: String,
        /// Why.
        source: sqlx::Error,
    },
    /// The data directory cannot be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// PostgreSQL cannot be reached (the URL shown without its password).
    #[error("cannot connect to PostgreSQL at {url}: {source}")]
    Postgres {
        /// The URL, without its password.
        url: String,
        /// Why.
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("applying database migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// What a store call can fail with. Stores map constraint violations to their own domain results,
/// so only these two remain: the database is not reachable now, or something unexpected happened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached now (503).
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// Anything else (500, the cause logged).
    #[error("database error: {0}")]
    Backend(#[source] sqlx::Error),
    /// The statement ran past `database.statement_timeout` and was cancelled.
    #[error("statement cancelled after database.statement_timeout: {0}")]
    TimedOut(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => StoreError::Unavailable(err),
            ref db if is_cancelled(db) => StoreError::TimedOut(err),
            other => StoreError::Backend(other),
        }
    }
}

/// SQLite's `SQLITE_INTERRUPT` (our progress handler) or PostgreSQL's `query_canceled`
/// (`statement_timeout`).
fn is_cancelled(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "9" || code == "57014")
}

/// Gives a SQLite connection's next statements until `now + timeout` to finish: past it, SQLite
/// stops them with `SQLITE_INTERRUPT` (a dropped request does not stop SQLite's worker thread by
/// itself, so without this a 50 s query held its connection for 50 s after the client left).
async fn sqlite_deadline(
    conn: &mut sqlx::SqliteConnection,
    timeout: Duration,
) -> Result<(), sqlx::Error> {
    let deadline = std::time::Instant::now() + timeout;
    conn.lock_handle()
        .await?
        .set_progress_handler(PROGRESS_STEPS, move || std::time::Instant::now() < deadline);
    Ok(())
}

/// Connection pool numbers for `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct PoolStats {
    /// Connections open.
    pub open: u32,
    /// Of which idle.
    pub idle: usize,
    /// The most the pool opens.
    pub max: u32,
}

impl Database {
    /// Opens the pool; SQLite files (and their directory) are created if missing, in WAL mode with
    /// foreign keys on.
    pub async fn connect(config: &DatabaseConfig) -> Result<Database, DbError> {
        match &config.url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| DbError::DataDir {
                        path: dir.display().to_string(),
                        source,
                    })?;
                }
                // NORMAL in WAL mode loses nothing when the process dies (kill -9, a panic);
                // only an OS crash or power loss may lose the last commits, never corrupting the
                // file. FULL syncs the WAL on every commit as well (`database.sqlite_synchronous`).
                let synchronous = if config.sqlite_full_sync {
                    SqliteSynchronous::Full
                } else {
                    SqliteSynchronous::Normal
                };
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(synchronous)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5));
                // An in-process database has no connection to lose: checking each connection
                // on acquire would only add a round trip to its worker thread per query.
                let fail = |source| DbError::Sqlite {
                    path: path.display().to_string(),
                    source,
                };
                let writer = SqlitePoolOptions::new()
                    .test_before_acquire(false)
                    .max_connections(1)
                    .acquire_timeout(config.acquire_timeout)
                    .connect_with(
                        options
                            .clone()
                            .pragma("cache_size", WRITER_CACHE_KIB)
                            .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)
                            .pragma("journal_size_limit", WAL_KEPT_BYTES),
                    )
                    .await
                    .map_err(fail)?;
                // Reads get `database.statement_timeout` from the moment they take a connection.
                // The writer has none: a large location's replace is many statements in one
                // transaction, and only our own code writes.
                let timeout = config.statement_timeout;
                let pool = SqlitePoolOptions::new()
                    .test_before_acquire(false)
                    .max_connections(config.max_connections)
                    .acquire_timeout(config.acquire_timeout)
                    .after_connect(move |conn, _| {
                        Box::pin(async move { sqlite_deadline(conn, timeout).await })
                    })
                    .before_acquire(move |conn, _| {
                        Box::pin(async move { sqlite_deadline(conn, timeout).await.map(|()| true) })
                    })
                    .connect_with(options)
                    .await
                    .map_err(fail)?;
                Ok(Database::Sqlite { pool, writer })
            }
            DatabaseUrl::Postgres(url) => {
                let fail = |source| DbError::Postgres {
                    url: redact_url(url),
                    source,
                };
                // Every statement is cancelled by the server past `database.statement_timeout`
                // (migrations lift it: see `migrate`).
                let timeout = format!("{}ms", config.statement_timeout.as_millis());
                let options = PgConnectOptions::from_str(url)
                    .map_err(fail)?
                    .options([("statement_timeout", timeout.as_str())]);
                let pool = PgPoolOptions::new()
                    .max_connections(config.max_connections)
                    .acquire_timeout(config.acquire_timeout)
                    .connect_with(options)
                    .await
                    .map_err(fail)?;
                Ok(Database::Postgres(pool))
            }
        }
    }

    /// Copies committed WAL pages into the SQLite database every [`CHECKPOINT_EVERY`] until
    /// `cancel`, from a read connection, so writers never wait for it (SQLite's `PASSIVE` mode).
    /// PostgreSQL checkpoints itself: this returns at once.
    pub async fn checkpoint_until(&self, cancel: tokio_util::sync::CancellationToken) {
        let Database::Sqlite { pool, .. } = self else {
            return;
        };
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = tick.tick() => {}
            }
            // A checkpoint under way is abandoned at shutdown, not waited for.
            tokio::select! {
                () = cancel.cancelled() => return,
                done = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(pool) => {
                    if let Err(e) = done {
                        tracing::warn!(error = %e, "SQLite checkpoint failed");
                    }
                }
            }
        }
    }

    /// `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self {
            Database::Sqlite { .. } => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }

    /// Applies the embedded migrations of this backend. PostgreSQL takes an advisory lock, so
    /// replicas starting together apply them once.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Database::Sqlite { writer, .. } => SQLITE_MIGRATIONS.run(writer).await?,
            Database::Postgres(pool) => {
                // A migration may rewrite a large table: on a connection of its own, without
                // the statement timeout, closed afterwards.
                let mut conn = pool
                    .acquire()
                    .await
                    .map_err(sqlx::migrate::MigrateError::from)?;
                sqlx::query("SET statement_timeout = 0")
                    .execute(&mut *conn)
                    .await
                    .map_err(sqlx::migrate::MigrateError::from)?;
                let applied = POSTGRES_MIGRATIONS.run(&mut *conn).await;
                let _ = sqlx::Connection::close(conn.detach()).await;
                applied?;
            }
        }
        Ok(())
    }

    /// Ready means: the database answers within `timeout` and every embedded migration is applied.
    /// The error is the reason, safe to show on the public `/readyz`.
    pub async fn check_ready(&self, timeout: Duration) -> Result<(), String> {
        let applied = tokio::time::timeout(timeout, self.applied_migrations()).await;
        let applied = match applied {
            Err(_) => {
                return Err(format!(
                    "database did not answer within {}s",
                    timeout.as_secs_f32()
                ));
            }
            Ok(Err(err)) if is_missing_table(&err) => Vec::new(),
            Ok(Err(err)) => return Err(format!("database unreachable: {}", describe(&err))),
            Ok(Ok(applied)) => applied,
        };
        let migrator = match self {
            Database::Sqlite { .. } => &SQLITE_MIGRATIONS,
            Database::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        let pending = migrator
            .iter()
            .filter(|m| m.migration_type.is_up_migration() && !applied.contains(&m.version))
            .count();
        if pending > 0 {
            return Err(format!(
                "{pending} database migration(s) not applied; run `fawkes-portal migrate`"
            ));
        }
        Ok(())
    }

    async fn applied_migrations(&self) -> Result<Vec<i64>, sqlx::Error> {
        const SQL: &str = "SELECT version FROM _sqlx_migrations WHERE success";
        match self {
            Database::Sqlite { pool, .. } => sqlx::query_scalar(SQL).fetch_all(pool).await,
            Database::Postgres(pool) => sqlx::query_scalar(SQL).fetch_all(pool).await,
        }
    }

    /// The read pool's connection counts, for `/metrics`.
    pub fn pool_stats(&self) -> PoolStats {
        match self {
            Database::Sqlite { pool, .. } => PoolStats {
                open: pool.size(),
                idle: pool.num_idle(),
                max: pool.options().get_max_connections(),
            },
            Database::Postgres(pool) => PoolStats {
                open: pool.size(),
                idle: pool.num_idle(),
                max: pool.options().get_max_connections(),
            },
        }
    }

    /// Waits for checked-out connections to return, then closes them all.
    pub async fn close(&self) {
        match self {
            Database::Sqlite { pool, writer } => {
                pool.close().await;
                writer.close().await;
            }
            Database::Postgres(pool) => pool.close().await,
        }
    }

    /// The lease store on this database.
    pub fn leases(&self) -> std::sync::Arc<dyn lease::LeaseStore> {
        match self {
            Database::Sqlite { writer, .. } => {
                std::sync::Arc::new(lease::SqlLeaseStore::new(writer.clone()))
            }
            Database::Postgres(pool) => {
                std::sync::Arc::new(lease::SqlLeaseStore::new(pool.clone()))
            }
        }
    }
}

fn is_missing_table(err: &sqlx::Error) -> bool {
    let message = err
        .as_database_error()
        .map(|e| e.message().to_owned())
        .unwrap_or_default();
    message.contains("no such table") || message.contains("does not exist")
}

/// A short, credential-free description of a connection failure.
fn describe(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Io(io) => io.kind().to_string(),
        sqlx::Error::PoolTimedOut => "no connection available in time".into(),
        sqlx::Error::PoolClosed => "connection pool closed".into(),
        sqlx::Error::Database(db) => db
            .code()
            .map(|c| format!("database error {c}"))
            .unwrap_or_else(|| "database error".into()),
        _ => "connection failed".into(),
    }
}
