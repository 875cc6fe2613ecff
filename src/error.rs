use std::sync::Arc;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Result alias for handlers and services.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Every failure a request can end in. The variant decides the status; the message is what the
/// caller reads, so it must say what to change. `Internal` carries the cause for the log only.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is wrong; the message says what to change (400).
    #[error("{0}")]
    BadRequest(String),
    /// No usable credentials were sent.
    #[error("{0}")]
    Unauthorized(String),
    /// Credentials were sent but are not valid (adds `error="invalid_token"` to the challenge).
    #[error("{0}")]
    InvalidToken(String),
    /// Not allowed for this caller (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such thing (404).
    #[error("{0}")]
    NotFound(String),
    /// It conflicts with something that exists (409).
    #[error("{0}")]
    Conflict(String),
    /// The body is larger than allowed (413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body is not JSON (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Past the caller's rate limit (429, with `Retry-After`).
    #[error("{message}")]
    TooManyRequests {
        /// What the caller reads.
        message: String,
        /// Seconds until the budget refills.
        retry_after_secs: u64,
    },
    /// A system we depend on refused us (502).
    #[error("{0}")]
    BadGateway(String),
    /// Something we depend on is down or too slow; retry later (503).
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected failure (500): the cause is logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The body of every error response: `{"error": "..."}` (500s add `requestId`).
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// What went wrong, for a person to act on.
    pub error: String,
    /// Present on 500 responses: quote it when reporting the problem; the cause is logged under it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Put on a 500 response so the observing middleware can log the cause once, with the request id,
/// and add the id to the body. The cause never reaches the client.
#[derive(Clone, Debug)]
pub struct InternalCause(pub Arc<anyhow::Error>);

/// The client-facing message of every 500.
pub const INTERNAL_MESSAGE: &str = "Internal server error";

impl AppError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) | AppError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        match self {
            AppError::Internal(cause) => {
                let mut response = error_response(status, INTERNAL_MESSAGE);
                response
                    .extensions_mut()
                    .insert(InternalCause(Arc::new(cause)));
                response
            }
            AppError::TooManyRequests {
                message,
                retry_after_secs,
            } => {
                let mut response = error_response(status, &message);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, retry_after_secs.into());
                response
            }
            AppError::Unauthorized(message) => {
                let mut response = error_response(status, &message);
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="fawkes-portal""#),
                );
                response
            }
            AppError::InvalidToken(message) => {
                let mut response = error_response(status, &message);
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        r#"Bearer realm="fawkes-portal", error="invalid_token""#,
                    ),
                );
                response
            }
            other => error_response(status, &other.to_string()),
        }
    }
}

/// A JSON error response with the given status and message.
pub fn error_response(status: StatusCode, message: &str) -> Response {
    let body = ErrorBody {
        error: message.to_owned(),
        request_id: None,
    };
    (status, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_maps_to_its_status() {
        let cases = [
            (AppError::BadRequest("x".into()), 400),
            (AppError::Unauthorized("x".into()), 401),
            (AppError::InvalidToken("x".into()), 401),
            (AppError::Forbidden("x".into()), 403),
            (AppError::NotFound("x".into()), 404),
            (AppError::Conflict("x".into()), 409),
            (AppError::PayloadTooLarge("x".into()), 413),
            (AppError::UnsupportedMediaType("x".into()), 415),
            (
                AppError::TooManyRequests {
                    message: "x".into(),
                    retry_after_secs: 3,
                },
                429,
            ),
            (AppError::BadGateway("x".into()), 502),
            (AppError::Unavailable("x".into()), 503),
            (AppError::Internal(anyhow::anyhow!("secret detail")), 500),
        ];
        for (err, status) in cases {
            assert_eq!(err.into_response().status().as_u16(), status);
        }
    }

    #[test]
    fn internal_errors_keep_their_cause_out_of_the_message() {
        let response = AppError::Internal(anyhow::anyhow!("password=hunter2")).into_response();
        let cause = response
            .extensions()
            .get::<InternalCause>()
            .expect("cause attached");
        assert!(cause.0.to_string().contains("hunter2"));
    }

    #[test]
    fn too_many_requests_sets_retry_after() {
        let response = AppError::TooManyRequests {
            message: "slow down".into(),
            retry_after_secs: 7,
        }
        .into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
    }
}
