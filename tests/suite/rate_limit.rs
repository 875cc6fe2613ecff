//! Rate limits: headers on every guarded response, exact budgets per principal and window, shared
//! budgets through Redis, and Redis failures handled as configured.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use fawkes_portal::auth::issuer::TokenSubject;
use fawkes_portal::clock::ManualClock;
use fawkes_portal::config::Settings;
use fawkes_portal::config::rate_limit::RateLimitOverride;

use crate::support::redis::RedisServer;
use crate::support::{TestApp, TestResponse, wait_until};

const USERINFO: &str = "/api/auth/v1/userinfo";
/// 2030-01-01T00:00:10Z: ten seconds into a window that resets at :01:00.
const T0: u64 = 1_893_456_010;
const RESET: u64 = 1_893_456_060;

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at(Duration::from_secs(T0)))
}

async fn app_with(clock: &Arc<ManualClock>, edit: impl FnOnce(&mut Settings)) -> TestApp {
    TestApp::build_with_clock(
        edit,
        fawkes_portal::app::routes::api_routes(),
        clock.clone(),
    )
    .await
}

fn numbers(response: &TestResponse) -> (u64, u64, u64) {
    let n = |name| response.header(name).parse::<u64>().unwrap();
    (
        n("x-ratelimit-limit"),
        n("x-ratelimit-remaining"),
        n("x-ratelimit-reset"),
    )
}

#[tokio::test]
async fn the_101st_user_request_in_a_minute_is_429_with_retry_after() {
    let clock = clock();
    let app = app_with(&clock, |_| {}).await;
    for i in 1..=100u64 {
        let response = app.get(USERINFO).await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(numbers(&response), (100, 100 - i, RESET));
    }
    let refused = app.get(USERINFO).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        refused.json(),
        serde_json::json!({"error": "Rate limit exceeded: 100 requests per minute; retry in 50 seconds"})
    );
    assert_eq!(refused.header("retry-after"), "50");
    assert_eq!(numbers(&refused), (100, 0, RESET));

    clock.advance(Duration::from_secs(20));
    let later = app.get(USERINFO).await;
    assert_eq!(later.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(later.header("retry-after"), "30");

    // The window resets at RESET.
    clock.advance(Duration::from_secs(30));
    let next = app.get(USERINFO).await;
    assert_eq!(next.status, StatusCode::OK);
    assert_eq!(numbers(&next), (100, 99, RESET + 60));
}

#[tokio::test]
async fn users_and_services_have_separate_budgets() {
    let clock = clock();
    let app = app_with(&clock, |_| {}).await;
    for _ in 0..100 {
        app.get(USERINFO).await;
    }
    assert_eq!(
        app.get(USERINFO).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    let service = app.issue(&TokenSubject::service("ci-bot").unwrap());
    let response = app.get_as(USERINFO, &service).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(numbers(&response), (1000, 999, RESET));
    // Another user has a budget of their own.
    let other = app.issue(&TokenSubject::user("someone-else").unwrap());
    assert_eq!(
        numbers(&app.get_as(USERINFO, &other).await),
        (100, 99, RESET)
    );
}

#[tokio::test]
async fn overrides_and_configured_limits_apply() {
    let clock = clock();
    let app = app_with(&clock, |s| {
        s.rate_limit.user_per_minute = 3;
        s.rate_limit.overrides = vec![RateLimitOverride {
            subject: "user:default/vip".into(),
            per_minute: 5,
        }];
    })
    .await;
    for _ in 0..3 {
        assert_eq!(app.get(USERINFO).await.status, StatusCode::OK);
    }
    let refused = app.get(USERINFO).await;
    assert_eq!(
        refused.json()["error"],
        "Rate limit exceeded: 3 requests per minute; retry in 50 seconds"
    );
    let vip = app.issue(&TokenSubject::user("vip").unwrap());
    assert_eq!(numbers(&app.get_as(USERINFO, &vip).await).0, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_concurrency_exactly_the_limit_is_admitted() {
    let clock = clock();
    let app = Arc::new(app_with(&clock, |_| {}).await);
    let requests = (0..300).map(|_| {
        let app = app.clone();
        tokio::spawn(async move { app.get(USERINFO).await })
    });
    let mut admitted_remaining = Vec::new();
    let mut refused = 0;
    for request in requests {
        let response = request.await.unwrap();
        match response.status {
            StatusCode::OK => admitted_remaining.push(numbers(&response).1),
            StatusCode::TOO_MANY_REQUESTS => {
                refused += 1;
                assert_eq!(numbers(&response).1, 0);
            }
            other => panic!("unexpected {other}"),
        }
    }
    admitted_remaining.sort_unstable();
    assert_eq!(
        admitted_remaining,
        (0..100).collect::<Vec<u64>>(),
        "each admitted request saw its own count"
    );
    assert_eq!(refused, 200);
}

#[tokio::test]
async fn bad_credentials_spend_the_client_address_budget() {
    let clock = clock();
    let app = app_with(&clock, |_| {}).await;
    for i in 1..=30u64 {
        let response = app.get_as(USERINFO, "not-a-valid-token").await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        assert_eq!(numbers(&response), (30, 30 - i, RESET));
    }
    let refused = app.get_with(USERINFO, None).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        refused.json()["error"],
        "Rate limit exceeded: 30 requests per minute; retry in 50 seconds"
    );
    // A valid token still works: its user's budget is separate.
    assert_eq!(app.get(USERINFO).await.status, StatusCode::OK);
}

#[test]
fn bad_rate_limit_settings_name_the_setting() {
    let mut settings = Settings::default();
    settings.rate_limit.backend = "redis".into();
    let error = settings.validate().unwrap_err().to_string();
    assert!(error.contains("rate_limit.redis_url"), "{error}");
    settings.rate_limit.backend = "memcached".into();
    assert!(
        settings
            .validate()
            .unwrap_err()
            .to_string()
            .contains("'memcached' is not one of: memory, redis")
    );
    let mut settings = Settings::default();
    settings.rate_limit.on_backend_failure = "maybe".into();
    assert!(
        settings
            .validate()
            .unwrap_err()
            .to_string()
            .contains("rate_limit.on_backend_failure")
    );
}

async fn redis_app(clock: &Arc<ManualClock>, url: &str, on_failure: &str) -> TestApp {
    let (url, on_failure) = (url.to_owned(), on_failure.to_owned());
    app_with(clock, move |s| {
        s.rate_limit.backend = "redis".into();
        s.rate_limit.redis_url = url;
        s.rate_limit.on_backend_failure = on_failure;
    })
    .await
}

#[tokio::test]
async fn two_instances_sharing_redis_share_one_budget() {
    let Ok(url) = std::env::var("FAWKES_TEST_REDIS_URL") else {
        crate::skip_without!("Redis (FAWKES_TEST_REDIS_URL)");
    };
    let clock = clock();
    let first = redis_app(&clock, &url, "open").await;
    let second = redis_app(&clock, &url, "open").await;
    // The same user on both replicas; a unique name keeps parallel tests apart.
    let user = TokenSubject::user(&format!("shared-{}", uuid::Uuid::new_v4().simple())).unwrap();
    let (token_a, token_b) = (first.issue(&user), second.issue(&user));
    for i in 0..100u64 {
        let (app, token) = if i % 2 == 0 {
            (&first, &token_a)
        } else {
            (&second, &token_b)
        };
        let response = app.get_as(USERINFO, token).await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(numbers(&response).1, 99 - i, "the count is shared");
    }
    assert_eq!(
        first.get_as(USERINFO, &token_a).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        second.get_as(USERINFO, &token_b).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn redis_down_fails_open_by_default_and_recovers() {
    let Some(mut redis) = RedisServer::start().await else {
        crate::skip_without!("redis-server (FAWKES_TEST_REDIS_SERVER)");
    };
    let clock = clock();
    let app = redis_app(&clock, &redis.url(), "open").await;
    assert_eq!(numbers(&app.get(USERINFO).await).1, 99);

    redis.stop();
    for _ in 0..3 {
        let response = app.get(USERINFO).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "keeps serving: {}",
            response.text()
        );
        assert_eq!(numbers(&response).0, 100, "still limited, per replica");
    }
    let metrics = app.get("/metrics").await.text();
    assert!(
        metrics.contains("rate_limit_backend_errors_total"),
        "counted in /metrics"
    );

    redis.start_again().await;
    // Counting moves back to Redis once its one-second backoff is over: a fresh Redis starts
    // from scratch for this window, while the fallback has counted every request so far.
    let recovered = async || {
        let response = app.get(USERINFO).await;
        assert_eq!(response.status, StatusCode::OK);
        numbers(&response).1 >= 98
    };
    wait_until(recovered, Duration::from_secs(10)).await;
}

#[tokio::test]
async fn redis_down_fails_closed_with_503_when_configured() {
    let Some(mut redis) = RedisServer::start().await else {
        crate::skip_without!("redis-server (FAWKES_TEST_REDIS_SERVER)");
    };
    let clock = clock();
    let app = redis_app(&clock, &redis.url(), "closed").await;
    assert_eq!(app.get(USERINFO).await.status, StatusCode::OK);
    redis.stop();
    let response = app.get(USERINFO).await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response.json(),
        serde_json::json!({"error": "Rate limiting is unavailable; try again shortly"})
    );
    assert_eq!(
        app.get("/healthz").await.status,
        StatusCode::OK,
        "public routes never wait for, or fail with, the shared backend"
    );
}
