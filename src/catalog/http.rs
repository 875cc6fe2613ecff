//! The catalog's routes under `/api/catalog`, split by resource: [`entities`] (reads and deletes),
//! [`locations`] (registration), [`misc`] (facets, refresh, validation). Handlers are thin; the
//! shared DTOs and parameter parsing are here.

pub mod entities;
pub mod locations;
pub mod misc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::filter::{Filter, parse_fields};
use super::predicate::predicate_filter;
use crate::error::AppError;

/// The OpenAPI tag of every catalog route.
pub const TAG: &str = "catalog";

pub(crate) fn filter_of(params: &[String]) -> Result<Filter, AppError> {
    Filter::parse(params).map_err(AppError::BadRequest)
}

/// The filter of an optional JSON predicate (`query` of the POST forms); none matches everything.
pub(crate) fn predicate_of(predicate: Option<&Value>) -> Result<Filter, AppError> {
    predicate.map_or(Ok(Filter::default()), |p| {
        predicate_filter(p).map_err(AppError::BadRequest)
    })
}

pub(crate) fn fields_of(params: &[String]) -> Result<Vec<String>, AppError> {
    parse_fields(params).map_err(AppError::BadRequest)
}

/// A JSON array of stored entity bodies, projected to `fields` when given.
pub(crate) fn json_array<'a>(bodies: impl Iterator<Item = &'a str>, fields: &[String]) -> String {
    let mut out = String::from("[");
    for (i, body) in bodies.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&projected(body, fields));
    }
    out.push(']');
    out
}

pub(crate) fn projected(body: &str, fields: &[String]) -> String {
    crate::catalog::filter::project_text(body, fields)
}

/// A 200 response with a JSON body already serialised.
pub(crate) fn json_response(body: String) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

pub(crate) fn encode_cursor(value: &serde_json::Value) -> String {
    STANDARD.encode(value.to_string())
}

pub(crate) fn decode_cursor<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, AppError> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|e| AppError::BadRequest(format!("Malformed {what}: not base64 ({e})")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| AppError::BadRequest(format!("Malformed {what}: {e}")))
}

pub(crate) fn parse_u64(name: &str, value: Option<&str>) -> Result<Option<u64>, AppError> {
    value
        .map(|v| {
            v.trim().parse::<u64>().map_err(|_| {
                AppError::BadRequest(format!("Invalid {name}: '{v}' is not a whole number"))
            })
        })
        .transpose()
}
