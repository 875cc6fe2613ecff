//! What the guard (authentication + rate limit) costs per request, on this machine.
//!
//!     cargo bench --bench auth
//!
//! Measures, in-process and single-threaded so the numbers are the work itself:
//! 1. a token already seen (cached): `Authenticator::authenticate` + `RateLimiter::check`;
//! 2. a first-seen ES256 token: the same, with the signature verified;
//! 3. a whole request through the router: guarded route vs. a public one, the difference being
//!    the guard's share of a request;
//! 4. the rate limit's check once 100,000 client keys (one IPv6 /64's worth of addresses) have
//!    been counted in the current minute, against the same check with a handful of keys.

#![allow(
    clippy::unwrap_used,
    reason = "a benchmark: a failed unwrap ends the run"
)]

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderValue, Request};
use fawkes_portal::app::{App, AppState};
use fawkes_portal::auth::issuer::TokenSubject;
use fawkes_portal::config::Settings;
use fawkes_portal::db::Database;
use fawkes_portal::rate_limit::Bucket;
use tower::ServiceExt;

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, samples: &mut [Duration]) -> Duration {
    let p50 = percentile(samples, 0.50);
    let p99 = percentile(samples, 0.99);
    println!(
        "{name:<58} n={:<7} p50={:>9.2?} p99={:>9.2?}",
        samples.len(),
        p50,
        p99
    );
    p50
}

/// Counts `keys` distinct client addresses (from one IPv6 /64) in the current window, then times
/// a user's check.
async fn time_checks(limiter: &fawkes_portal::rate_limit::RateLimiter, keys: u32) -> Duration {
    use std::net::{IpAddr, Ipv6Addr};
    let address = |i: u32| {
        IpAddr::V6(Ipv6Addr::new(
            0x2001,
            0xdb8,
            0,
            0,
            0,
            0,
            (i >> 16) as u16,
            i as u16,
        ))
    };
    for i in 0..keys {
        let _ = limiter.check(Bucket::Anonymous(Some(address(i)))).await;
    }
    let user = fawkes_portal::principal::Principal::user("user:default/jdoe");
    let mut samples = Vec::with_capacity(100_000);
    for _ in 0..100_000 {
        let started = Instant::now();
        let decision = limiter.check(Bucket::Principal(&user)).await.unwrap();
        samples.push(started.elapsed());
        assert!(decision.allowed);
    }
    report(
        &format!("rate limit check, {keys} other keys this minute"),
        &mut samples,
    )
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut settings = Settings {
        data_dir: dir.path().display().to_string(),
        ..Settings::default()
    };
    // Budgets large enough that every measured request is admitted, as in normal traffic.
    settings.rate_limit.user_per_minute = u64::MAX / 2;
    let config = settings.validate().unwrap();
    let db = Database::connect(&config.database).await.unwrap();
    db.migrate().await.unwrap();
    let state = AppState::new(config, db).unwrap();
    let issuer = state.auth.issuer.clone().unwrap();
    let now = jsonwebtoken::get_current_timestamp();
    let bearer = |token: &str| HeaderValue::from_str(&format!("Bearer {token}")).unwrap();

    // 1. Cached token.
    let token = issuer
        .issue(&TokenSubject::user("jdoe").unwrap(), None, now)
        .unwrap();
    let header = bearer(&token);
    state
        .auth
        .authenticator
        .authenticate(Some(&header))
        .await
        .unwrap();
    let mut samples = Vec::with_capacity(200_000);
    for _ in 0..200_000 {
        let started = Instant::now();
        let principal = state
            .auth
            .authenticator
            .authenticate(Some(&header))
            .await
            .unwrap();
        let decision = state
            .auth
            .limiter
            .check(Bucket::Principal(&principal))
            .await
            .unwrap();
        samples.push(started.elapsed());
        assert!(decision.allowed);
    }
    let cached = report("auth + rate limit, token already seen", &mut samples);

    // 2. First-seen ES256 tokens: each is verified once.
    let headers: Vec<HeaderValue> = (0..3_000)
        .map(|i| {
            bearer(
                &issuer
                    .issue(
                        &TokenSubject::user(&format!("user-{i}")).unwrap(),
                        None,
                        now,
                    )
                    .unwrap(),
            )
        })
        .collect();
    let mut samples = Vec::with_capacity(headers.len());
    for header in &headers {
        let started = Instant::now();
        let principal = state
            .auth
            .authenticator
            .authenticate(Some(header))
            .await
            .unwrap();
        let decision = state
            .auth
            .limiter
            .check(Bucket::Principal(&principal))
            .await
            .unwrap();
        samples.push(started.elapsed());
        assert!(decision.allowed);
    }
    let first = report("auth + rate limit, first-seen ES256 token", &mut samples);

    // 3. Whole requests through the router.
    let router = App::new(state.clone(), fawkes_portal::app::routes::api_routes()).router();
    let time_requests = |path: &'static str, authorization: Option<HeaderValue>| {
        let router = router.clone();
        async move {
            let mut samples = Vec::with_capacity(50_000);
            for _ in 0..50_000 {
                let mut request = Request::get(path).body(Body::empty()).unwrap();
                if let Some(value) = &authorization {
                    request.headers_mut().insert("authorization", value.clone());
                }
                let started = Instant::now();
                let response = router.clone().oneshot(request).await.unwrap();
                samples.push(started.elapsed());
                assert!(response.status().is_success());
            }
            samples
        }
    };
    let mut public = time_requests("/healthz", None).await;
    let mut guarded = time_requests("/api/auth/v1/userinfo", Some(header.clone())).await;
    let public_p50 = report("request: GET /healthz (public)", &mut public);
    let guarded_p50 = report(
        "request: GET /api/auth/v1/userinfo (guarded, cached token)",
        &mut guarded,
    );
    println!(
        "guard share of a request (p50 difference): {:.2?}",
        guarded_p50.saturating_sub(public_p50)
    );
    // 4. The in-memory counts with 100,000 keys in the current window.
    let few = time_checks(&state.auth.limiter, 0).await;
    let crowded = time_checks(&state.auth.limiter, 100_000).await;
    println!(
        "rate limit check with 100,000 keys / with a few keys (p50): {:.2}",
        crowded.as_secs_f64() / few.as_secs_f64()
    );
    println!();
    println!(
        "targets: cached <= 10us: {}; first-seen ES256 <= 200us: {}",
        if cached <= Duration::from_micros(10) {
            "met"
        } else {
            "MISSED"
        },
        if first <= Duration::from_micros(200) {
            "met"
        } else {
            "MISSED"
        },
    );
}
