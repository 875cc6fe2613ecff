//! The outermost middleware: gives every request an id, and when the response is ready records it
//! in `/metrics`, writes the one log line per request, and logs a 500's cause once under that id.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ErrorBody, INTERNAL_MESSAGE, InternalCause};
use crate::telemetry::REQUEST_DURATION;

/// The request id header, read from the caller when sane and always sent back.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Characters of a request's path kept in its log line.
const MAX_LOGGED_PATH: usize = 512;

/// The id of the current request, available to handlers as an extension.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// An incoming id is kept if it is 1-128 characters of letters, digits and `-_.:`, so it can be
/// logged and echoed without escaping; anything else is replaced by a fresh UUID.
fn request_id_from(req: &Request) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            (1..=128).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The outermost middleware: gives every request an id (`X-Request-Id`, kept when valid), logs it once with its status and duration, counts it in `/metrics`, and logs a 500's cause under the id it adds to the body.
pub async fn observe(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id_from(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    // Bounded like every logged input: a path may be as long as a request head.
    let path: String = req.uri().path().chars().take(MAX_LOGGED_PATH).collect();
    // Unmatched paths share one label so junk requests cannot blow up the metric's cardinality.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());

    let mut response = next.run(req).await;

    if let Some(InternalCause(cause)) = response.extensions_mut().remove::<InternalCause>() {
        tracing::error!(request_id = %id, method = %method, route = %route, error = format!("{cause:#}"), "request failed");
        let headers = std::mem::take(response.headers_mut());
        let body = ErrorBody {
            error: INTERNAL_MESSAGE.into(),
            request_id: Some(id.clone()),
        };
        response = (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response();
        for (name, value) in headers
            .iter()
            .filter(|(n, _)| *n != axum::http::header::CONTENT_LENGTH)
        {
            response.headers_mut().entry(name).or_insert(value.clone());
        }
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }

    let status = response.status().as_u16();
    let latency = started.elapsed();
    let method_label = method.as_str().to_owned();
    metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method_label.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!(REQUEST_DURATION, "route" => route.clone(), "method" => method_label)
        .record(latency.as_secs_f64());
    tracing::info!(
        request_id = %id,
        method = %method,
        route = %route,
        path = %path,
        status,
        latency_ms = latency.as_secs_f64() * 1000.0,
        "request"
    );
    response
}
