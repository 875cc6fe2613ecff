//! Test support: an in-process app over a fresh database, databases for store contract tests,
//! private PostgreSQL and Redis servers, the test data, and `wait_until`. External services are
//! optional on a developer machine (a test that needs a missing one skips through
//! [`skip_without!`], which `scripts/test` counts) and required in CI
//! (`FAWKES_TEST_REQUIRE_SERVICES=1`, where such a test fails).

pub mod github;
pub mod https;
pub mod keys;
pub mod logs;
pub mod mariadb;
pub mod oidc;
pub mod postgres;
pub mod redis;
pub mod wait;

pub use wait::{wait_for, wait_until};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use std::sync::Arc;

use fawkes_portal::app::{App, AppState};
use fawkes_portal::auth::issuer::TokenSubject;
use fawkes_portal::clock::{Clock, SystemClock};
use fawkes_portal::config::{Config, Settings};
use fawkes_portal::db::Database;
use http_body_util::BodyExt;
use tempfile::TempDir;
use tower::ServiceExt;
use utoipa_axum::router::OpenApiRouter;

/// Skips the calling test because `$what` is not available: the one way a test skips. Under
/// `FAWKES_TEST_REQUIRE_SERVICES=1` (CI) the test fails instead; see [`skip`].
#[macro_export]
macro_rules! skip_without {
    ($what:expr) => {{
        $crate::support::skip($what);
        return;
    }};
}

/// Records that the running test skips because `what` is not available: it panics under
/// `FAWKES_TEST_REQUIRE_SERVICES=1`, else prints a notice and, when `FAWKES_TEST_SKIP_LOG` names a
/// file, appends `<test>\t<what>` to it, so `scripts/test` counts the skips and says why.
pub fn skip(what: impl std::fmt::Display) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    if std::env::var("FAWKES_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("{what} is required (FAWKES_TEST_REQUIRE_SERVICES=1) but not available");
    }
    eprintln!("notice: skipping {test}: {what} is not available");
    if let Some(log) = std::env::var_os("FAWKES_TEST_SKIP_LOG") {
        use std::io::Write;
        let line = format!("{test}\t{what}\n");
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .and_then(|mut file| file.write_all(line.as_bytes()));
        if let Err(e) = written {
            eprintln!("notice: could not record the skip in FAWKES_TEST_SKIP_LOG: {e}");
        }
    }
}

/// The test data in the repository (`tests/data`; each folder's `SOURCES.md` says where it
/// comes from).
pub fn testdata() -> &'static std::path::Path {
    std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data"))
}

/// Settings for a test: defaults with a private data directory.
pub fn settings(dir: &TempDir) -> Settings {
    Settings {
        data_dir: dir.path().display().to_string(),
        ..Settings::default()
    }
}

/// The app on a fresh SQLite database in a temporary directory, driven in-process. Requests sent
/// with [`TestApp::send`] carry a user token from the built-in issuer unless they name their own.
pub struct TestApp {
    pub app: App,
    router: Router,
    /// A token for `user:default/tester`.
    pub token: String,
    _dir: TempDir,
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::build(|_| {}, fawkes_portal::app::routes::api_routes()).await
    }

    /// With settings changed by `edit` and the given routes (the real ones plus test routes).
    pub async fn build(
        edit: impl FnOnce(&mut Settings),
        routes: OpenApiRouter<AppState>,
    ) -> TestApp {
        Self::build_with_clock(edit, routes, Arc::new(SystemClock)).await
    }

    /// As [`TestApp::build`], with the rate limiter on `clock`.
    pub async fn build_with_clock(
        edit: impl FnOnce(&mut Settings),
        routes: OpenApiRouter<AppState>,
        clock: Arc<dyn Clock>,
    ) -> TestApp {
        // As `serve` does at start: metrics recorded before the first `/metrics` are kept.
        fawkes_portal::telemetry::prometheus();
        let dir = TempDir::new().unwrap();
        let mut settings = settings(&dir);
        edit(&mut settings);
        let config: Config = settings.validate().expect("test settings are valid");
        let db = Database::connect(&config.database).await.unwrap();
        db.migrate().await.unwrap();
        let state = AppState::with_clock(config, db, clock).unwrap();
        let app = App::new(state, routes);
        let mut test_app = TestApp {
            router: app.router(),
            app,
            token: String::new(),
            _dir: dir,
        };
        if test_app.app.state().auth.issuer.is_some() {
            test_app.token = test_app.issue(&TokenSubject::user("tester").unwrap());
        }
        test_app
    }

    /// A token from the app's built-in issuer.
    pub fn issue(&self, subject: &TokenSubject) -> String {
        let issuer = self
            .app
            .state()
            .auth
            .issuer
            .as_ref()
            .expect("the built-in issuer is enabled");
        issuer
            .issue(subject, None, jsonwebtoken::get_current_timestamp())
            .unwrap()
    }

    /// Sends `request`, adding the default user token if it has no `Authorization` header.
    pub async fn send(&self, mut request: Request<Body>) -> TestResponse {
        if !request.headers().contains_key(header::AUTHORIZATION) && !self.token.is_empty() {
            let value = format!("Bearer {}", self.token).parse().unwrap();
            request.headers_mut().insert(header::AUTHORIZATION, value);
        }
        self.send_anonymous(request).await
    }

    /// Sends `request` exactly as given.
    pub async fn send_anonymous(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            body: body.collect().await.unwrap().to_bytes(),
        }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    /// `GET path` with `Authorization: <authorization>` (or none).
    pub async fn get_with(&self, path: &str, authorization: Option<&str>) -> TestResponse {
        let mut request = Request::get(path);
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        self.send_anonymous(request.body(Body::empty()).unwrap())
            .await
    }

    /// `GET path` with a bearer token.
    pub async fn get_as(&self, path: &str, token: &str) -> TestResponse {
        self.get_with(path, Some(&format!("Bearer {token}"))).await
    }

    /// A request with a body and a content type.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: impl Into<Body>,
    ) -> TestResponse {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, content_type)
            .body(body.into());
        self.send(request.unwrap()).await
    }
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl TestResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A migrated database for one store contract test: a SQLite file in a temporary directory, or a
/// new PostgreSQL database on the server at `FAWKES_TEST_DATABASE_URL`, dropped afterwards.
pub struct TestDb {
    pub db: Database,
    /// The PostgreSQL database's URL (an app can be pointed at it); `None` for SQLite.
    pub url: Option<String>,
    cleanup: Option<(String, String)>,
    _dir: Option<TempDir>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let test_db = TestDb::sqlite_empty().await;
        test_db.db.migrate().await.unwrap();
        test_db
    }

    /// A SQLite database with the migrations before `version` applied (to test a migration).
    pub async fn sqlite_before(version: i64) -> TestDb {
        let test_db = TestDb::sqlite_empty().await;
        migrate_before(&test_db.db, version).await;
        test_db
    }

    async fn sqlite_empty() -> TestDb {
        let dir = TempDir::new().unwrap();
        let config = Config::with_data_dir(dir.path());
        let db = Database::connect(&config.database).await.unwrap();
        TestDb {
            db,
            url: None,
            cleanup: None,
            _dir: Some(dir),
        }
    }

    /// `None` when no PostgreSQL server is configured.
    pub async fn postgres() -> Option<TestDb> {
        let test_db = TestDb::postgres_empty().await?;
        test_db.db.migrate().await.unwrap();
        Some(test_db)
    }

    /// A PostgreSQL database with the migrations before `version` applied.
    pub async fn postgres_before(version: i64) -> Option<TestDb> {
        let test_db = TestDb::postgres_empty().await?;
        migrate_before(&test_db.db, version).await;
        Some(test_db)
    }

    async fn postgres_empty() -> Option<TestDb> {
        let admin_url = std::env::var("FAWKES_TEST_DATABASE_URL").ok()?;
        let name = format!("fawkes_test_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(&admin_url)
            .await
            .expect("connect to FAWKES_TEST_DATABASE_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&name);
        let mut settings = Settings::default();
        settings.database.url = url.to_string();
        let config = settings.validate().unwrap();
        let db = Database::connect(&config.database).await.unwrap();
        Some(TestDb {
            db,
            url: Some(url.to_string()),
            cleanup: Some((admin_url, name)),
            _dir: None,
        })
    }
}

/// Applies the project's migrations numbered below `version`.
async fn migrate_before(db: &Database, version: i64) {
    let dir = match db {
        Database::Sqlite { .. } => "migrations/sqlite",
        Database::Postgres(_) => "migrations/postgres",
    };
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut migrator = sqlx::migrate::Migrator::new(path).await.unwrap();
    let earlier: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < version)
        .cloned()
        .collect();
    migrator.migrations = earlier.into();
    match db {
        Database::Sqlite { writer, .. } => migrator.run(writer).await.unwrap(),
        Database::Postgres(pool) => migrator.run(pool).await.unwrap(),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.cleanup.take() else {
            return;
        };
        let db = self.db.clone();
        // Async work cannot run in `drop`; a short-lived runtime on its own thread can.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                db.close().await;
                if let Ok(admin) = sqlx::PgPool::connect(&admin_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&admin).await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}

/// Runs each named `async fn(&Database)` as two tests, `sqlite::<name>` and `postgres::<name>`.
#[macro_export]
macro_rules! store_contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let test_db = $crate::support::TestDb::sqlite().await;
                    super::$name(&test_db.db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(test_db) = $crate::support::TestDb::postgres().await else {
                        $crate::skip_without!("PostgreSQL (FAWKES_TEST_DATABASE_URL)");
                    };
                    super::$name(&test_db.db).await;
                }
            )*
        }
    };
}
