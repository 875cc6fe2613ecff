//! Where browser sessions and sign-ins under way are kept (migration 0009): one implementation
//! generic over the backend, since SQLite and PostgreSQL agree on all of its SQL.

use async_trait::async_trait;
use sqlx::{Database, Decode, Encode, Executor, FromRow, IntoArguments, Pool, Type};

use crate::db::StoreError;

/// A session as stored: the cookie token appears only as its hash.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct SessionRow {
    /// URL-safe base64 of the SHA-256 of the cookie's token.
    pub token_hash: String,
    /// The principal's subject.
    pub subject: String,
    /// A name to show.
    pub display_name: String,
    /// `guest`, `oidc` or `github`.
    pub provider: String,
    /// The token form posts must carry.
    pub csrf_token: String,
    /// Epoch milliseconds.
    pub created_at_ms: i64,
    /// Epoch milliseconds; the session is gone from then on.
    pub expires_at_ms: i64,
}

/// A sign-in sent to a provider and not yet back.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct LoginRow {
    /// The `state` sent to the provider (the key).
    pub state: String,
    /// `oidc` or `github`.
    pub provider: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// Where to go once signed in.
    pub return_to: String,
    /// Epoch milliseconds.
    pub expires_at_ms: i64,
}

/// Sessions and sign-ins under way, in the database.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Stores a new session, and forgets every session expired at `now_ms`.
    async fn create(&self, session: &SessionRow, now_ms: i64) -> Result<(), StoreError>;
    /// The session with this token hash, unless it expired at `now_ms`.
    async fn find(&self, token_hash: &str, now_ms: i64) -> Result<Option<SessionRow>, StoreError>;
    /// Ends a session; `false` if there was none.
    async fn delete(&self, token_hash: &str) -> Result<bool, StoreError>;
    /// Remembers a sign-in under way, and forgets every one expired at `now_ms`.
    async fn save_login(&self, login: &LoginRow, now_ms: i64) -> Result<(), StoreError>;
    /// Takes (reads and deletes, at once) the sign-in with this state, unless it expired: a
    /// state is good for one callback only.
    async fn take_login(&self, state: &str, now_ms: i64) -> Result<Option<LoginRow>, StoreError>;
}

const INSERT_SESSION: &str = "INSERT INTO auth_sessions \
     (token_hash, subject, display_name, provider, csrf_token, created_at_ms, expires_at_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
const DELETE_EXPIRED_SESSIONS: &str = "DELETE FROM auth_sessions WHERE expires_at_ms <= $1";
const FIND_SESSION: &str = "SELECT token_hash, subject, display_name, provider, csrf_token, \
     created_at_ms, expires_at_ms FROM auth_sessions WHERE token_hash = $1 AND expires_at_ms > $2";
const DELETE_SESSION: &str = "DELETE FROM auth_sessions WHERE token_hash = $1 RETURNING token_hash";
const INSERT_LOGIN: &str = "INSERT INTO auth_login_states \
     (state, provider, verifier, nonce, return_to, expires_at_ms) VALUES ($1, $2, $3, $4, $5, $6)";
const DELETE_EXPIRED_LOGINS: &str = "DELETE FROM auth_login_states WHERE expires_at_ms <= $1";
const TAKE_LOGIN: &str = "DELETE FROM auth_login_states WHERE state = $1 AND expires_at_ms > $2 \
     RETURNING state, provider, verifier, nonce, return_to, expires_at_ms";

/// [`SessionStore`] on either backend. SQLite reads through its read pool and writes through its
/// one write connection; PostgreSQL uses one pool for both.
pub struct SqlSessionStore<DB: Database> {
    read: Pool<DB>,
    write: Pool<DB>,
}

impl<DB: Database> SqlSessionStore<DB> {
    /// A store reading through `read` and writing through `write` (the same pool on PostgreSQL).
    pub fn new(read: Pool<DB>, write: Pool<DB>) -> Self {
        Self { read, write }
    }
}

#[async_trait]
impl<DB> SessionStore for SqlSessionStore<DB>
where
    DB: Database,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    (String,): for<'r> FromRow<'r, DB::Row>,
    SessionRow: for<'r> FromRow<'r, DB::Row>,
    LoginRow: for<'r> FromRow<'r, DB::Row>,
{
    async fn create(&self, session: &SessionRow, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query(DELETE_EXPIRED_SESSIONS)
            .bind(now_ms)
            .execute(&self.write)
            .await?;
        sqlx::query(INSERT_SESSION)
            .bind(session.token_hash.as_str())
            .bind(session.subject.as_str())
            .bind(session.display_name.as_str())
            .bind(session.provider.as_str())
            .bind(session.csrf_token.as_str())
            .bind(session.created_at_ms)
            .bind(session.expires_at_ms)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn find(&self, token_hash: &str, now_ms: i64) -> Result<Option<SessionRow>, StoreError> {
        Ok(sqlx::query_as(FIND_SESSION)
            .bind(token_hash)
            .bind(now_ms)
            .fetch_optional(&self.read)
            .await?)
    }

    async fn delete(&self, token_hash: &str) -> Result<bool, StoreError> {
        let deleted: Option<(String,)> = sqlx::query_as(DELETE_SESSION)
            .bind(token_hash)
            .fetch_optional(&self.write)
            .await?;
        Ok(deleted.is_some())
    }

    async fn save_login(&self, login: &LoginRow, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query(DELETE_EXPIRED_LOGINS)
            .bind(now_ms)
            .execute(&self.write)
            .await?;
        sqlx::query(INSERT_LOGIN)
            .bind(login.state.as_str())
            .bind(login.provider.as_str())
            .bind(login.verifier.as_str())
            .bind(login.nonce.as_str())
            .bind(login.return_to.as_str())
            .bind(login.expires_at_ms)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn take_login(&self, state: &str, now_ms: i64) -> Result<Option<LoginRow>, StoreError> {
        Ok(sqlx::query_as(TAKE_LOGIN)
            .bind(state)
            .bind(now_ms)
            .fetch_optional(&self.write)
            .await?)
    }
}

/// The session store on `db`.
pub fn open(db: &crate::db::Database) -> std::sync::Arc<dyn SessionStore> {
    match db {
        crate::db::Database::Sqlite { pool, writer } => {
            std::sync::Arc::new(SqlSessionStore::new(pool.clone(), writer.clone()))
        }
        crate::db::Database::Postgres(pool) => {
            std::sync::Arc::new(SqlSessionStore::new(pool.clone(), pool.clone()))
        }
    }
}
