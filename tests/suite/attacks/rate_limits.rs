//! Rate limiting at its edges (issue #12's observations, decided): public routes and unknown
//! paths are limited per client address, in this process; a closed-mode 503 says what the
//! budget is like every other guarded answer; and while it refuses everything, readiness says so.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use fawkes_portal::clock::ManualClock;

use crate::support::redis::RedisServer;
use crate::support::{TestApp, TestResponse};

/// 2030-01-01T00:00:10Z: ten seconds into a window that resets at :01:00.
const T0: u64 = 1_893_456_010;
const RESET: u64 = 1_893_456_060;

fn headers(response: &TestResponse) -> (u64, u64, u64) {
    let n = |name| response.header(name).parse::<u64>().unwrap();
    (
        n("x-ratelimit-limit"),
        n("x-ratelimit-remaining"),
        n("x-ratelimit-reset"),
    )
}

#[tokio::test]
async fn public_routes_and_unknown_paths_spend_a_per_address_budget() {
    let clock = Arc::new(ManualClock::at(Duration::from_secs(T0)));
    let app = TestApp::build_with_clock(
        |s| s.rate_limit.public_per_minute = 5,
        fawkes_portal::app::routes::api_routes(),
        clock.clone(),
    )
    .await;
    for (i, path) in [
        "/healthz",
        "/readyz",
        "/api",
        "/api/openapi.json",
        "/no/such/path",
    ]
    .into_iter()
    .enumerate()
    {
        let response = app.get_with(path, None).await;
        assert_ne!(response.status, StatusCode::TOO_MANY_REQUESTS, "{path}");
        assert_eq!(headers(&response), (5, 4 - i as u64, RESET), "{path}");
    }
    let refused = app.get_with("/healthz", None).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.header("retry-after"), "50");
    assert!(
        refused.json()["error"]
            .as_str()
            .unwrap()
            .contains("5 requests per minute")
    );
    // Guarded routes keep their own budgets.
    assert_eq!(
        app.get("/api/auth/v1/userinfo").await.status,
        StatusCode::OK
    );
    clock.advance(Duration::from_secs(60));
    assert_eq!(app.get_with("/healthz", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn while_a_closed_limiter_refuses_everything_its_503s_have_headers_and_readiness_fails() {
    let Some(mut redis) = RedisServer::start().await else {
        crate::skip_without!("redis-server (FAWKES_TEST_REDIS_SERVER)");
    };
    let clock = Arc::new(ManualClock::at(Duration::from_secs(T0)));
    let build = |on_failure: &'static str| {
        let url = redis.url();
        TestApp::build_with_clock(
            move |s| {
                s.rate_limit.backend = "redis".into();
                s.rate_limit.redis_url = url;
                s.rate_limit.on_backend_failure = on_failure.into();
            },
            fawkes_portal::app::routes::api_routes(),
            clock.clone(),
        )
    };
    let closed = build("closed").await;
    let open = build("open").await;
    assert_eq!(
        closed.get_with("/readyz", None).await.status,
        StatusCode::OK
    );
    redis.stop();
    let refused = closed.get("/api/auth/v1/userinfo").await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers(&refused), (100, 0, RESET));
    assert_eq!(refused.header("retry-after"), "1");
    let not_ready = closed.get_with("/readyz", None).await;
    assert_eq!(not_ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        not_ready.json()["error"]
            .as_str()
            .unwrap()
            .contains("rate_limit.on_backend_failure = closed"),
        "{}",
        not_ready.text()
    );
    // Failing open, the replica keeps serving, so it stays ready.
    assert_eq!(
        open.get("/api/auth/v1/userinfo").await.status,
        StatusCode::OK
    );
    assert_eq!(open.get_with("/readyz", None).await.status, StatusCode::OK);
    // Liveness never depends on Redis.
    assert_eq!(
        closed.get_with("/healthz", None).await.status,
        StatusCode::OK
    );
    redis.start_again().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while closed.get_with("/readyz", None).await.status != StatusCode::OK {
        assert!(
            std::time::Instant::now() < deadline,
            "ready again once Redis is back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
