//! Framework-made errors (unknown route, wrong method, timeouts) get the same `{"error": ...}` body
//! as our own.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{Method, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{AppError, error_response};

/// The fallback for paths no route matches.
pub async fn not_found(method: Method, uri: Uri) -> AppError {
    AppError::NotFound(format!("Not found: {method} {}", uri.path()))
}

/// Gives a JSON body to error responses that were produced without one (axum's 405, for example),
/// keeping their status and headers (such as `Allow`).
pub async fn json_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let message = match status.as_u16() {
        405 => format!("Method not allowed: {method} {path}"),
        404 => format!("Not found: {method} {path}"),
        _ => status.canonical_reason().unwrap_or("Error").to_owned(),
    };
    let (mut parts, _) = response.into_parts();
    let rebuilt = error_response(status, &message);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        rebuilt.headers()[header::CONTENT_TYPE].clone(),
    );
    Response::from_parts(parts, rebuilt.into_body())
}

/// Ends a request that runs longer than `server.request_timeout` with a 503.
pub async fn timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => AppError::Unavailable(format!(
            "Request timed out: it did not complete within {}s (server.request_timeout)",
            limit.as_secs()
        ))
        .into_response(),
    }
}
