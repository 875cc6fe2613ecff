//! Graceful shutdown on a real SIGTERM. This is its own test binary because it signals its own
//! process; the server under test installs the handler, exactly as `fawkes-portal serve` does.

#![allow(
    clippy::unwrap_used,
    reason = "a test: a failed unwrap is a failed test"
)]

#[path = "suite/support/wait.rs"]
mod wait;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use fawkes_portal::app::{App, shutdown_signal};
use fawkes_portal::auth::issuer::TokenSubject;
use fawkes_portal::config::Settings;
use fawkes_portal::db::Database;
use utoipa_axum::routes;

use wait::wait_until;

/// Set when the slow request has reached its handler.
static STARTED: AtomicBool = AtomicBool::new(false);
/// Lets the slow request finish.
static RELEASE: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Test route: answers only when the test lets it, like a catalog fetch of a slow location.
#[utoipa::path(get, path = "/api/test/slow", responses((status = 200)))]
async fn slow() -> &'static str {
    STARTED.store(true, Ordering::SeqCst);
    RELEASE.notified().await;
    "finished"
}

async fn app(shutdown_timeout: &str, dir: &tempfile::TempDir) -> App {
    let settings = Settings {
        data_dir: dir.path().display().to_string(),
        server: fawkes_portal::config::ServerSettings {
            shutdown_timeout: shutdown_timeout.into(),
            ..Default::default()
        },
        ..Settings::default()
    };
    let config = settings.validate().unwrap();
    let db = Database::connect(&config.database).await.unwrap();
    db.migrate().await.unwrap();
    let state = fawkes_portal::app::AppState::new(config, db).unwrap();
    App::new(
        state,
        fawkes_portal::app::routes::api_routes().routes(routes!(slow)),
    )
}

/// How long the test waits for the server before it fails.
const WAIT: Duration = Duration::from_secs(15);

fn sigterm_self() {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_requests_finish_then_stops_everything() {
    fawkes_portal::fetch::install_crypto_provider();
    let dir = tempfile::TempDir::new().unwrap();
    let app = app("10s", &dir).await;
    let background_stopped = Arc::new(AtomicBool::new(false));
    let flag = background_stopped.clone();
    app.background().spawn(|cancel| async move {
        cancel.cancelled().await;
        flag.store(true, Ordering::SeqCst);
    });
    let issuer = app.state().auth.issuer.clone().unwrap();
    let token = issuer
        .issue(
            &TokenSubject::user("tester").unwrap(),
            None,
            jsonwebtoken::get_current_timestamp(),
        )
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(app.serve(listener, shutdown_signal()));

    let in_flight = tokio::spawn(
        reqwest::Client::new()
            .get(format!("http://{address}/api/test/slow"))
            .bearer_auth(token)
            .send(),
    );
    wait_until(async || STARTED.load(Ordering::SeqCst), WAIT).await;
    sigterm_self();

    // Shutting down: no new connections, while the request in flight keeps the server running.
    let refused = async || tokio::net::TcpStream::connect(address).await.is_err();
    wait_until(refused, WAIT).await;
    assert!(!server.is_finished(), "the server waits for the request");
    RELEASE.notify_one();
    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "finished");
    tokio::time::timeout(WAIT, server)
        .await
        .expect("server stops")
        .unwrap()
        .unwrap();
    assert!(
        background_stopped.load(Ordering::SeqCst),
        "background tasks were told to stop"
    );
}
