//! One user must not starve the database for everyone: a statement past its time is cancelled and
//! its connection freed, one principal holds at most its share of the pool, and a streamed list
//! whose reading fails never passes for a complete answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use fawkes_portal::app::{App, AppState};
use fawkes_portal::auth::issuer::TokenSubject;
use fawkes_portal::db::{Database, StoreError};
use fawkes_portal::error::AppError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use utoipa_axum::routes;

use super::Backend;
use crate::catalog::CatalogApp;
use crate::support::{TestApp, wait_for, wait_until};

/// Connections the test routes hold now, and the most they held at once.
#[derive(Default)]
struct Probe {
    holding: AtomicUsize,
    most: AtomicUsize,
}

impl Probe {
    fn hold(&self) -> Held<'_> {
        let now = self.holding.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        Held(self)
    }
}

struct Held<'a>(&'a Probe);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.holding.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs `sqlite` or `postgres` on a connection of the read pool, counted by `probe`.
async fn statement(
    db: &Database,
    probe: &Probe,
    sqlite: &'static str,
    postgres: &'static str,
) -> Result<StatusCode, AppError> {
    match db {
        Database::Sqlite { pool, .. } => {
            let mut conn = pool.acquire().await.map_err(StoreError::from)?;
            let _held = probe.hold();
            sqlx::query(sqlite)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::from)?;
        }
        Database::Postgres(pool) => {
            let mut conn = pool.acquire().await.map_err(StoreError::from)?;
            let _held = probe.hold();
            sqlx::query(postgres)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::from)?;
        }
    }
    Ok(StatusCode::OK)
}

/// Test route: a statement that runs for minutes unless it is cancelled.
#[utoipa::path(get, path = "/api/test/slow-statement", responses((status = 200)))]
async fn slow_statement(
    State(state): State<AppState>,
    Extension(probe): Extension<Arc<Probe>>,
) -> Result<StatusCode, AppError> {
    statement(
        &state.db,
        &probe,
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000000) \
         SELECT count(*) FROM c",
        "SELECT pg_sleep(600)",
    )
    .await
}

/// Test route: a quick statement on the read pool.
#[utoipa::path(get, path = "/api/test/quick-statement", responses((status = 200)))]
async fn quick_statement(
    State(state): State<AppState>,
    Extension(probe): Extension<Arc<Probe>>,
) -> Result<StatusCode, AppError> {
    statement(&state.db, &probe, "SELECT 1", "SELECT 1").await
}

async fn app(
    backend: &Backend,
    edit: impl FnOnce(&mut fawkes_portal::config::Settings),
) -> (TestApp, Arc<Probe>) {
    let probe = Arc::new(Probe::default());
    let routes = fawkes_portal::app::routes::api_routes()
        .routes(routes!(slow_statement))
        .routes(routes!(quick_statement))
        .layer(Extension(probe.clone()));
    (TestApp::build(backend.with(edit), routes).await, probe)
}

/// A statement past `database.statement_timeout` is cancelled with a 503 saying so, and its
/// connection (the only one) serves the next request at once.
async fn a_statement_past_its_timeout_is_cancelled_and_frees_its_connection(backend: Backend) {
    let (app, _) = app(&backend, |s| {
        s.database.max_connections = 1;
        s.database.statement_timeout = "1s".into();
        s.server.request_timeout = "8s".into();
    })
    .await;
    let started = Instant::now();
    let slow = app.get("/api/test/slow-statement").await;
    assert_eq!(
        slow.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        slow.text()
    );
    let message = slow.json()["error"].as_str().unwrap().to_owned();
    assert!(message.contains("database.statement_timeout"), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "cancelled, not finished"
    );
    let quick = app.get("/api/test/quick-statement").await;
    assert_eq!(quick.status, StatusCode::OK, "{}", quick.text());
}

/// A request past `server.request_timeout` gets its 503, and its statement does not outlive it:
/// the pool's only connection serves the next request within that request's own timeout.
async fn a_request_past_its_timeout_leaves_no_statement_running(backend: Backend) {
    let (app, _) = app(&backend, |s| {
        s.database.max_connections = 1;
        s.server.request_timeout = "2s".into();
    })
    .await;
    let slow = app.get("/api/test/slow-statement").await;
    assert_eq!(
        slow.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        slow.text()
    );
    let quick = app.get("/api/test/quick-statement").await;
    assert_eq!(quick.status, StatusCode::OK, "{}", quick.text());
}

/// Four connections, half of them one principal's share: while one user runs four slow
/// requests, only two of them hold a connection, and another user is served at once.
async fn one_principal_holds_at_most_its_share_of_the_pool(backend: Backend) {
    let (app, probe) = app(&backend, |s| {
        s.database.max_connections = 4;
        s.database.max_principal_share = 0.5;
        s.database.acquire_timeout = "2s".into();
        s.database.statement_timeout = "6s".into();
    })
    .await;
    let app = Arc::new(app);
    let slow: Vec<_> = (0..4)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.get("/api/test/slow-statement").await.status })
        })
        .collect();
    let started = async || probe.holding.load(Ordering::SeqCst) >= 2;
    wait_until(started, Duration::from_secs(5)).await;
    // Without the share the other two would take the rest of the pool within this second.
    let window = Instant::now() + Duration::from_secs(1);
    while Instant::now() < window {
        assert!(
            probe.most.load(Ordering::SeqCst) <= 2,
            "one user held more than its share"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(probe.most.load(Ordering::SeqCst), 2);
    let other = app.issue(&TokenSubject::user("someone-else").unwrap());
    let served = app.get_as("/api/test/quick-statement", &other).await;
    assert_eq!(served.status, StatusCode::OK, "{}", served.text());
    for request in slow {
        request.abort();
    }
}

/// The first page of a streamed list is read before the answer starts: when the database fails
/// there, the answer is a 503 with a JSON body, not a 200 cut short.
async fn a_streamed_list_that_cannot_start_is_an_error_response(backend: Backend) {
    let (app, _) = app(&backend, |_| {}).await;
    app.app.state().db.close().await;
    let response = app.get("/api/catalog/entities").await;
    assert_eq!(
        response.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        response.text()
    );
    assert_eq!(response.json()["error"], "Database unavailable");
}

/// A streamed list whose next page fails once its answer has begun is aborted: the chunked body
/// never gets its last chunk, so no client takes what it got for the whole list. (A kept answer is
/// made whole before its first byte is sent, so none is kept here: the list is streamed from the
/// database on both backends.)
async fn a_streamed_list_failing_midway_is_aborted(backend: Backend) {
    let c = CatalogApp::with(backend.with(|s| s.catalog.kept_answers_bytes = 0)).await;
    // 1,200 entities of about 8 KB: the first page (1,000) is more than the kernel buffers on
    // both ends of a loopback connection, so the next page is not read before the client reads.
    let description = "x".repeat(8 * 1024);
    let mut targets = Vec::new();
    for file in 0..4 {
        let documents: String = (0..300)
            .map(|i| {
                format!(
                    "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-{file}-{i}\n  description: {description}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
                )
            })
            .collect();
        targets.push(c.write(&format!("part-{file}.yaml"), documents));
    }
    let list: String = targets.iter().map(|t| format!("    - {t}\n")).collect();
    let root = c.write(
        "all.yaml",
        format!("apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: all\nspec:\n  type: file\n  targets:\n{list}"),
    );
    let registered = c
        .post(
            "/api/catalog/locations",
            serde_json::json!({"type": "file", "target": root}),
        )
        .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.text()
    );
    let id = registered.json()["location"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let processed = async || {
        let view = c.get(&format!("/api/catalog/locations/{id}")).await.json();
        (view["status"] != "processing").then_some(view)
    };
    let view = wait_for(processed, Duration::from_secs(120)).await;
    assert_eq!(view["status"], "ready", "{view}");

    let state = c.app.app.state().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        App::new(state.clone(), fawkes_portal::app::routes::api_routes()).serve(
            listener,
            async move {
                let _ = stopped.await;
            },
        ),
    );
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(address).await.unwrap();
    let request = format!(
        "GET /api/catalog/entities HTTP/1.1\r\nhost: portal\r\nauthorization: Bearer {}\r\n\r\n",
        c.app.token
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buffer = vec![0u8; 4096];
    while !received.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buffer).await.unwrap();
        assert!(n > 0, "the connection closed before the head");
        received.extend_from_slice(&buffer[..n]);
    }
    assert!(
        received.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&received[..64])
    );
    // The database goes away while the first page is still being sent.
    state.db.close().await;
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
        }
    }
    assert!(
        received.len() > 1_000_000,
        "the first page arrived ({} bytes)",
        received.len()
    );
    assert!(
        !received.ends_with(b"\r\n0\r\n\r\n"),
        "the body ended with the last chunk, as a complete list would"
    );
    let _ = stop.send(());
    let _ = server.await;
}

crate::on_both_databases!(
    a_statement_past_its_timeout_is_cancelled_and_frees_its_connection,
    a_request_past_its_timeout_leaves_no_statement_running,
    one_principal_holds_at_most_its_share_of_the_pool,
    a_streamed_list_that_cannot_start_is_an_error_response,
    a_streamed_list_failing_midway_is_aborted,
);
