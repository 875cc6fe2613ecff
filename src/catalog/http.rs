//! The catalog's routes under `/api/catalog`, split by resource: [`entities`] (reads and deletes),
//! [`locations`] (registration), [`misc`] (facets, refresh, validation). Handlers parse the request
//! into the service's types, call the service and render; the parsing and rendering they share
//! is here.

pub mod analyze;
pub mod ancestry;
pub mod entities;
pub mod locations;
pub mod misc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::filter::Filter;
use crate::error::AppError;
use crate::http::extract::QueryPairs;

/// The OpenAPI tag of every catalog route.
pub const TAG: &str = "catalog";

/// Refuses query parameters a route does not know, and (as Backstage's request validation does)
/// a parameter given once with an empty value (`filter=`); a repeated one may have empty values.
pub(crate) fn check_params(params: &QueryPairs, known: &[&str]) -> Result<(), AppError> {
    params.check(known)?;
    for (name, value) in &params.0 {
        if value.is_empty() && params.0.iter().filter(|(k, _)| k == name).count() == 1 {
            return Err(AppError::BadRequest(format!(
                "Empty value found for query parameter '{name}'"
            )));
        }
    }
    Ok(())
}

/// Every `filter` parameter, parsed.
pub(crate) fn filter_of(params: &[String]) -> Result<Filter, AppError> {
    Filter::parse(params).map_err(AppError::BadRequest)
}

/// A JSON array of entity JSON texts.
pub(crate) fn json_array(items: &[String]) -> String {
    let mut out = String::with_capacity(items.iter().map(|i| i.len() + 1).sum::<usize>() + 2);
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push(']');
    out
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

/// An optional whole-number parameter.
pub(crate) fn parse_u64(name: &str, value: Option<&str>) -> Result<Option<u64>, AppError> {
    value
        .map(|v| {
            v.trim().parse::<u64>().map_err(|_| {
                AppError::BadRequest(format!("Invalid {name}: '{v}' is not a whole number"))
            })
        })
        .transpose()
}
