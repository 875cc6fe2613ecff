//! `/healthz` and `/readyz` against real databases: readiness follows the database.

use axum::http::StatusCode;
use fawkes_portal::app::App;
use fawkes_portal::config::Settings;
use fawkes_portal::db::Database;
use tower::ServiceExt;

use crate::support::postgres::PgServer;
use crate::support::{TestApp, wait_until};

#[tokio::test]
async fn liveness_and_readiness_on_sqlite() {
    let app = TestApp::new().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json(), serde_json::json!({"status": "ok"}));
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(
        ready.json(),
        serde_json::json!({"status": "ready", "database": "sqlite"})
    );
}

#[tokio::test]
async fn readiness_is_503_until_migrations_are_applied() {
    let dir = tempfile::TempDir::new().unwrap();
    let config = crate::support::settings(&dir).validate().unwrap();
    let db = Database::connect(&config.database).await.unwrap();
    let state = fawkes_portal::app::AppState::new(config, db.clone()).unwrap();
    let app = App::new(state, fawkes_portal::app::routes::api_routes());
    let status_of = |app: &App, path: &'static str| {
        let router = app.router();
        async move {
            let response = router
                .oneshot(
                    axum::http::Request::get(path)
                        .body(axum::body::Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let status = response.status();
            let body = http_body_util::BodyExt::collect(response.into_body())
                .await
                .unwrap()
                .to_bytes();
            (
                status,
                serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            )
        }
    };
    let status = |app: &App| status_of(app, "/readyz");
    let (code, body) = status(&app).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    // Backstage's probe says the same, in Backstage's words.
    let (code, backstage) = status_of(&app, "/.backstage/health/v1/readiness").await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(backstage["status"], "error");
    assert_eq!(backstage["message"], body["error"]);
    // Every migration is pending (each feature adds its own).
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .count();
    assert_eq!(
        body["error"],
        format!(
            "Not ready: {migrations} database migration(s) not applied; run `fawkes-portal migrate`"
        )
    );
    db.migrate().await.unwrap();
    assert_eq!(status(&app).await.0, StatusCode::OK);
    let (code, backstage) = status_of(&app, "/.backstage/health/v1/readiness").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(backstage["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_a_postgres_server_that_stops_and_comes_back() {
    let Some(server) = PgServer::start() else {
        crate::skip_without!(
            "PostgreSQL binaries (FAWKES_TEST_PG_BIN) and a non-root user (FAWKES_TEST_PG_USER)"
        );
    };
    let routes = fawkes_portal::app::routes::api_routes();
    let app = TestApp::build(
        |s: &mut Settings| {
            s.database.url = server.url();
            s.database.acquire_timeout = "1s".into();
        },
        routes,
    )
    .await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text());
    assert_eq!(ready.json()["database"], "postgres");

    server.stop();
    let down = app.get("/readyz").await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    let reason = down.json()["error"].as_str().unwrap().to_owned();
    assert!(reason.starts_with("Not ready: database"), "{reason}");
    assert!(
        !reason.contains("postgres://"),
        "no connection details leak: {reason}"
    );
    assert_eq!(
        app.get("/healthz").await.status,
        StatusCode::OK,
        "liveness does not depend on the database"
    );

    server.start_again();
    let ready = async || app.get("/readyz").await.status == StatusCode::OK;
    wait_until(ready, std::time::Duration::from_secs(15)).await;
}
