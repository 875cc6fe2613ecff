//! Extractors whose rejections are [`AppError`]s, so malformed input gets the same `{"error": ...}`
//! envelope, and the right status, as every other failure.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// `Json<T>` with our error mapping: syntax and type errors are 400 naming the problem and its
/// line and column, a missing JSON content type is 415, an oversized body 413.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(AppJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> AppError {
    let text = rejection.body_text();
    let detail = inner_message(&text);
    match rejection {
        JsonRejection::JsonDataError(_) => {
            AppError::BadRequest(format!("Invalid request body: {detail}"))
        }
        JsonRejection::JsonSyntaxError(_) => {
            AppError::BadRequest(format!("Malformed JSON: {detail}"))
        }
        JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType(
            "Unsupported content type: send the body as JSON with `Content-Type: application/json`"
                .into(),
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge(
            "Request body too large: it exceeds the server's limit (server.max_body_bytes)".into(),
        ),
        other => AppError::BadRequest(format!(
            "Cannot read the request body: {}",
            inner_message(&other.body_text())
        )),
    }
}

/// `Query<T>` with our error mapping: a bad query string is a 400 naming the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(AppQuery(value)),
            Err(rejection) => Err(query_rejection(&rejection)),
        }
    }
}

fn query_rejection(rejection: &QueryRejection) -> AppError {
    AppError::BadRequest(format!(
        "Invalid query string: {}",
        inner_message(&rejection.body_text())
    ))
}

/// `Path<T>` with our error mapping: a path segment of the wrong type is a 400.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppPath<T>(pub T);

impl<S, T> FromRequestParts<S> for AppPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(AppPath(value)),
            Err(rejection) => Err(path_rejection(&rejection)),
        }
    }
}

fn path_rejection(rejection: &PathRejection) -> AppError {
    AppError::BadRequest(format!(
        "Invalid path: {}",
        inner_message(&rejection.body_text())
    ))
}

/// axum's texts read "Failed to ...: <serde's message>"; callers want serde's part.
fn inner_message(text: &str) -> &str {
    text.split_once(": ").map_or(text, |(_, rest)| rest)
}

/// The query string as ordered `(name, value)` pairs, for parameters that repeat (Backstage's
/// `filter`, `fields`, `order`). [`QueryPairs::check`] refuses names a route does not know.
#[derive(Debug, Clone, Default)]
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        Ok(QueryPairs(
            url::form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }
}

impl QueryPairs {
    /// 400 naming the first parameter not in `known`.
    pub fn check(&self, known: &[&str]) -> Result<(), AppError> {
        match self.0.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            Some((name, _)) => Err(AppError::BadRequest(format!(
                "Unknown query parameter '{name}'; this route accepts: {}",
                known.join(", ")
            ))),
            None => Ok(()),
        }
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The last value of `name`.
    pub fn last(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}
