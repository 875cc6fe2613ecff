//! What the DORA benchmarks share: requests timed through the whole router (authentication and
//! rate-limit guard included) as a signed-in user, one at a time, and their p50/p95 report.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use fawkes_portal::app::{App, AppState};
use fawkes_portal::auth::issuer::TokenSubject;
use fawkes_portal::dora::calendar::Day;
use tower::ServiceExt;

/// An `Authorization` value for `subject`, signed by `state`'s issuer.
pub fn bearer(state: &AppState, subject: &TokenSubject) -> String {
    let issuer = state.auth.issuer.clone().unwrap();
    let token = issuer
        .issue(subject, None, jsonwebtoken::get_current_timestamp())
        .unwrap();
    format!("Bearer {token}")
}

/// The API's router, called as user `jdoe`.
pub struct Client {
    /// The router, for requests of other callers.
    pub router: Router,
    user: String,
}

impl Client {
    pub fn new(state: AppState) -> Client {
        let user = bearer(&state, &TokenSubject::user("jdoe").unwrap());
        let router = App::new(state, fawkes_portal::app::routes::api_routes()).router();
        Client { router, user }
    }

    /// How long `GET path` took, body read; anything but 200 ends the run with the body.
    pub async fn get(&self, path: &str) -> Duration {
        let request = Request::get(path)
            .header(header::AUTHORIZATION, self.user.as_str())
            .body(Body::empty())
            .unwrap();
        let started = Instant::now();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        started.elapsed()
    }

    /// Times `n` requests, the `i`th to `path(i)`, one after another, and prints their report.
    pub async fn measure(&self, name: &str, n: usize, mut path: impl FnMut(usize) -> String) {
        let mut samples = Vec::with_capacity(n);
        for i in 0..n {
            samples.push(self.get(&path(i)).await);
        }
        report(name, &mut samples);
    }
}

/// The query parameters of the 30 and the 90 days ending on `last`.
pub fn month_and_quarter(last: Day) -> (String, String) {
    let days = |n: i64| {
        format!(
            "startDate={}&endDate={}",
            last.plus(1 - n).format(),
            last.format()
        )
    };
    (days(30), days(90))
}

/// The `i`th of a run of `deployment-history` requests for `service`: the 20 newest, in every
/// environment, then in production, then in development, in turn.
pub fn history_path(service: &str, i: usize) -> String {
    let filter = ["", "&environment=prod", "&environment=dev"][i % 3];
    format!("/api/devlake/deployment-history?service={service}&limit=20{filter}")
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

/// Prints `name`'s sample count, p50 and p95.
pub fn report(name: &str, samples: &mut [Duration]) {
    let p50 = percentile(samples, 0.50);
    let p95 = percentile(samples, 0.95);
    println!(
        "{name:<56} n={:<5} p50={p50:>10.2?} p95={p95:>10.2?}",
        samples.len()
    );
}
