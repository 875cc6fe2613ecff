//! How stores share SQL between SQLite and PostgreSQL. The dialects agree on most of it (sqlx
//! binds `$N` on SQLite too; both have `ON CONFLICT`, `RETURNING`, multi-row `VALUES`), so a
//! store is written once, generic over a [`Backend`] (`SqlCatalogStore<Sqlite>` and
//! `SqlCatalogStore<Postgres>`), and each feature adds a small trait of its own for the few
//! statements that differ.
//!
//! A [`Statement`] is SQL text with its parameters, bound in one place (the function that makes
//! the statement); [`Backend::bound`] turns it into a sqlx query for either database, and
//! [`Columns`] reads result columns. Generic store code needs no bounds besides `DB: Backend`:
//! which Rust types each database encodes and decodes is settled here, once, for the concrete
//! `Sqlite` and `Postgres` types.

use sqlx::database::HasStatementCache;
use sqlx::postgres::PgQueryResult;
use sqlx::query::Query;
use sqlx::sqlite::SqliteQueryResult;
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row, SqlSafeStr, SqlStr, Type,
};

/// One bound parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// Text, or NULL.
    Text(Option<String>),
    /// A 64-bit integer, or NULL.
    Int(Option<i64>),
    /// A 32-bit integer (columns declared `INTEGER` on PostgreSQL).
    Int32(i32),
    /// A boolean.
    Bool(bool),
}

impl From<String> for Param {
    fn from(value: String) -> Param {
        Param::Text(Some(value))
    }
}

impl From<&str> for Param {
    fn from(value: &str) -> Param {
        Param::Text(Some(value.to_owned()))
    }
}

impl From<&String> for Param {
    fn from(value: &String) -> Param {
        Param::Text(Some(value.clone()))
    }
}

impl From<Option<String>> for Param {
    fn from(value: Option<String>) -> Param {
        Param::Text(value)
    }
}

impl From<Option<&str>> for Param {
    fn from(value: Option<&str>) -> Param {
        Param::Text(value.map(str::to_owned))
    }
}

impl From<&Option<String>> for Param {
    fn from(value: &Option<String>) -> Param {
        Param::Text(value.clone())
    }
}

impl From<i64> for Param {
    fn from(value: i64) -> Param {
        Param::Int(Some(value))
    }
}

impl From<Option<i64>> for Param {
    fn from(value: Option<i64>) -> Param {
        Param::Int(value)
    }
}

impl From<i32> for Param {
    fn from(value: i32) -> Param {
        Param::Int32(value)
    }
}

impl From<bool> for Param {
    fn from(value: bool) -> Param {
        Param::Bool(value)
    }
}

/// SQL text and its parameters, `$1` first.
#[derive(Debug, Clone)]
pub struct Statement {
    /// The SQL text, with `$1`, `$2`, ... for its parameters.
    pub sql: SqlStr,
    /// The parameters, `$1` first.
    pub params: Vec<Param>,
    /// Whether the connection keeps it prepared for its next run (see [`Statement::once`]).
    pub kept: bool,
}

impl Statement {
    /// `sql` with no parameters yet (a `&'static str`, or text built at run time wrapped in
    /// `sqlx::AssertSqlSafe` once its parameters are placeholders).
    pub fn new(sql: impl SqlSafeStr) -> Statement {
        Statement {
            sql: sql.into_sql_str(),
            params: Vec::new(),
            kept: true,
        }
    }

    /// Not kept prepared after it runs: for a text that is unlikely to run again, as the last,
    /// shorter statement of many-row inserts. Each connection keeps 100 prepared statements, and
    /// such a statement (thousands of parameters, 100 KB prepared) would push out one that runs
    /// again.
    pub fn once(mut self) -> Statement {
        self.kept = false;
        self
    }

    /// Adds the next parameter.
    pub fn bind(mut self, value: impl Into<Param>) -> Statement {
        self.params.push(value.into());
        self
    }

    /// Runs it on `conn`; the number of rows it changed.
    pub async fn execute<DB: Backend>(self, conn: &mut DB::Connection) -> Result<u64, sqlx::Error> {
        self.bound::<DB>().execute(conn).await
    }

    /// It bound for `DB`, to run later: binding a statement of thousands of parameters takes a
    /// while, which a caller can spend on another thread than the one that runs the statements.
    pub fn bound<DB: Backend>(self) -> Bound<DB> {
        Bound(DB::bound(self))
    }

    /// Every row it returns.
    pub async fn fetch_all<DB: Backend>(
        self,
        conn: &mut DB::Connection,
    ) -> Result<Vec<DB::Row>, sqlx::Error> {
        DB::bound(self).fetch_all(DB::on(conn)).await
    }

    /// The first row it returns, if any.
    pub async fn fetch_optional<DB: Backend>(
        self,
        conn: &mut DB::Connection,
    ) -> Result<Option<DB::Row>, sqlx::Error> {
        DB::bound(self).fetch_optional(DB::on(conn)).await
    }

    /// The one row it returns.
    pub async fn fetch_one<DB: Backend>(
        self,
        conn: &mut DB::Connection,
    ) -> Result<DB::Row, sqlx::Error> {
        DB::bound(self).fetch_one(DB::on(conn)).await
    }
}

/// A [`Statement`] bound for one database ([`Statement::bound`]), ready to run.
pub struct Bound<DB: Database>(Query<'static, DB, DB::Arguments>);

impl<DB: Backend> Bound<DB> {
    /// Runs it on `conn`; the number of rows it changed.
    pub async fn execute(self, conn: &mut DB::Connection) -> Result<u64, sqlx::Error> {
        let done = self.0.execute(DB::on(conn)).await?;
        Ok(DB::rows_affected(&done))
    }
}

/// A statement built as it goes: each value is bound where its placeholder is written, so the
/// text holds only placeholders and fixed SQL.
#[derive(Debug, Default)]
pub struct SqlBuilder {
    text: String,
    params: Vec<Param>,
}

impl SqlBuilder {
    /// A statement that starts with `text`.
    pub fn new(text: &str) -> SqlBuilder {
        SqlBuilder {
            text: text.to_owned(),
            params: Vec::new(),
        }
    }

    /// Appends fixed SQL.
    pub fn push(&mut self, text: &str) -> &mut SqlBuilder {
        self.text.push_str(text);
        self
    }

    /// Appends the placeholder of a new parameter.
    pub fn push_bind(&mut self, value: impl Into<Param>) -> &mut SqlBuilder {
        let placeholder = self.placeholder(value);
        self.text.push_str(&placeholder);
        self
    }

    /// Binds a new parameter and returns its placeholder (`$N`), to be written into the text.
    pub fn placeholder(&mut self, value: impl Into<Param>) -> String {
        self.params.push(value.into());
        format!("${}", self.params.len())
    }

    /// Binds parameters the text numbers itself (`$1` for the first).
    pub fn bind_numbered(&mut self, values: impl IntoIterator<Item = Param>) -> &mut SqlBuilder {
        self.params.extend(values);
        self
    }

    /// The text so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The statement built.
    pub fn finish(mut self) -> Statement {
        let text = std::mem::take(&mut self.text);
        self.finish_with(text)
    }

    /// The statement of `text`, assembled by the caller from the placeholders this builder gave
    /// out (the builder's own text is dropped).
    pub fn finish_with(self, text: String) -> Statement {
        Statement {
            // Every value went through a placeholder: the text holds none of them.
            sql: sqlx::AssertSqlSafe(text).into_sql_str(),
            params: self.params,
            kept: true,
        }
    }
}

/// Result columns by position, decoded as the stores store them.
pub trait Columns {
    /// A text column.
    fn text(&self, index: usize) -> Result<String, sqlx::Error>;
    /// A text column that may be NULL.
    fn opt_text(&self, index: usize) -> Result<Option<String>, sqlx::Error>;
    /// An integer column.
    fn int(&self, index: usize) -> Result<i64, sqlx::Error>;
    /// An integer column that may be NULL.
    fn opt_int(&self, index: usize) -> Result<Option<i64>, sqlx::Error>;
    /// A boolean column (an integer on SQLite).
    fn flag(&self, index: usize) -> Result<bool, sqlx::Error>;
}

impl<R> Columns for R
where
    R: Row,
    usize: ColumnIndex<R>,
    String: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    i64: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    bool: for<'r> Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&self, index: usize) -> Result<String, sqlx::Error> {
        self.try_get(index)
    }

    fn opt_text(&self, index: usize) -> Result<Option<String>, sqlx::Error> {
        self.try_get(index)
    }

    fn int(&self, index: usize) -> Result<i64, sqlx::Error> {
        self.try_get(index)
    }

    fn opt_int(&self, index: usize) -> Result<Option<i64>, sqlx::Error> {
        self.try_get(index)
    }

    fn flag(&self, index: usize) -> Result<bool, sqlx::Error> {
        self.try_get(index)
    }
}

/// The number of rows a statement changed (each database's result type has it, no trait does).
pub trait RowsAffected {
    /// Rows changed.
    fn rows_affected(&self) -> u64;
}

impl RowsAffected for SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        SqliteQueryResult::rows_affected(self)
    }
}

impl RowsAffected for PgQueryResult {
    fn rows_affected(&self) -> u64 {
        PgQueryResult::rows_affected(self)
    }
}

/// What generic store code needs of a database: an executor on a connection (a pooled one or a
/// transaction), statements bound for it, and its rows read through [`Columns`]. Implemented for
/// every database that encodes the parameter types and decodes the column types the stores use:
/// `Sqlite` and `Postgres`.
pub trait Backend: Database<Arguments: IntoArguments<Self>, Row: Columns> {
    /// `conn` as an executor.
    fn on(conn: &mut Self::Connection) -> impl Executor<'_, Database = Self>;
    /// `statement` with its parameters bound, ready to run.
    fn bound(statement: Statement) -> Query<'static, Self, Self::Arguments>;
    /// Rows changed by a statement.
    fn rows_affected(result: &Self::QueryResult) -> u64;
}

impl<DB> Backend for DB
where
    DB: Database<Arguments: IntoArguments<DB>, Row: Columns, QueryResult: RowsAffected>
        + HasStatementCache,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    Option<String>: for<'q> Encode<'q, DB> + Type<DB>,
    Option<i64>: for<'q> Encode<'q, DB> + Type<DB>,
    i32: for<'q> Encode<'q, DB> + Type<DB>,
    bool: for<'q> Encode<'q, DB> + Type<DB>,
{
    fn on(conn: &mut DB::Connection) -> impl Executor<'_, Database = DB> {
        conn
    }

    fn bound(statement: Statement) -> Query<'static, DB, DB::Arguments> {
        // SQLite names a `$N` parameter, and sqlx looks each name up in a list as long as the
        // statement's parameters: a 500-row insert spent 80 % of ingestion there. `?` has no
        // name, so a text that uses `$1`..`$N` once each, in order, runs as `?`s.
        let text = (DB::NAME == "SQLite")
            .then(|| anonymous(statement.sql.as_str(), statement.params.len()))
            .flatten();
        let sql = match text {
            Some(text) => sqlx::AssertSqlSafe(text).into_sql_str(),
            None => statement.sql,
        };
        let mut query = sqlx::query(sql).persistent(statement.kept);
        for param in statement.params {
            query = match param {
                Param::Text(text) => query.bind(text),
                Param::Int(int) => query.bind(int),
                Param::Int32(int) => query.bind(int),
                Param::Bool(flag) => query.bind(flag),
            };
        }
        query
    }

    fn rows_affected(result: &DB::QueryResult) -> u64 {
        result.rows_affected()
    }
}

/// `sql` with `?` for each parameter, when it uses `$1` to `$count` once each and in that order
/// (outside quoted text); otherwise `None`.
fn anonymous(sql: &str, count: usize) -> Option<String> {
    if count == 0 {
        return None;
    }
    let mut out = String::with_capacity(sql.len());
    let mut next = 1;
    let mut quoted = false;
    let mut chars = sql.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c != '$' || quoted {
            out.push(c);
            continue;
        }
        let digits = sql[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            out.push(c);
            continue;
        }
        let number: usize = sql[at + 1..at + 1 + digits].parse().ok()?;
        if number != next {
            return None;
        }
        next += 1;
        out.push('?');
        for _ in 0..digits {
            chars.next();
        }
    }
    (next == count + 1).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_used_once_in_order_become_anonymous() {
        assert_eq!(
            anonymous("INSERT INTO t VALUES ($1, $2), ($3, '$4')", 3).as_deref(),
            Some("INSERT INTO t VALUES (?, ?), (?, '$4')")
        );
        assert_eq!(
            anonymous("SELECT json_extract(b, '$.a') WHERE x = $1 AND y = $10", 2),
            None,
            "$10 is not the second"
        );
        assert_eq!(anonymous("SELECT $1, $1", 1), None, "used twice");
        assert_eq!(anonymous("SELECT $2, $1", 2), None, "out of order");
        assert_eq!(anonymous("SELECT 1", 0), None);
        assert_eq!(anonymous("SELECT $1", 2), None, "a parameter never used");
    }

    /// Generic code over `DB: Backend` alone compiles and runs for both databases' types.
    async fn round_trip<DB: Backend>(conn: &mut DB::Connection) -> Result<(), sqlx::Error> {
        let row = Statement::new("SELECT $1, $2, $3, $4")
            .bind("text")
            .bind(Option::<String>::None)
            .bind(7_i64)
            .bind(Option::<i64>::None)
            .fetch_one::<DB>(conn)
            .await?;
        assert_eq!(row.text(0)?, "text");
        assert_eq!(row.opt_text(1)?, None);
        assert_eq!(row.int(2)?, 7);
        assert_eq!(row.opt_int(3)?, None);
        Ok(())
    }

    #[tokio::test]
    async fn statements_bind_and_read_on_sqlite() {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        round_trip::<sqlx::Sqlite>(&mut conn).await.unwrap();
        let changed = Statement::new("CREATE TABLE t (a INTEGER)")
            .execute::<sqlx::Sqlite>(&mut conn)
            .await
            .unwrap();
        assert_eq!(changed, 0);
        let changed = Statement::new("INSERT INTO t (a) VALUES ($1), ($2)")
            .bind(1_i32)
            .bind(2_i32)
            .execute::<sqlx::Sqlite>(&mut conn)
            .await
            .unwrap();
        assert_eq!(changed, 2);
    }

    /// Postgres is checked by the store contract suite; here only that the type is a backend.
    #[test]
    fn postgres_is_a_backend() {
        fn is_backend<DB: Backend>() {}
        is_backend::<sqlx::Postgres>();
        is_backend::<sqlx::Sqlite>();
    }
}
