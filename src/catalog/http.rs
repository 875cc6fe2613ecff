//! The catalog's routes under `/api/catalog`, split by resource: [`entities`] (reads and deletes),
//! [`locations`] (registration), [`misc`] (facets, refresh, validation). Handlers parse the request
//! into the service's types, call the service and render; the parsing and rendering they share
//! is here.

pub mod analyze;
pub mod ancestry;
pub mod entities;
pub mod locations;
pub mod misc;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::answers::Answer;
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
pub(crate) fn json_response(body: impl Into<axum::body::Body>) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        body.into(),
    )
        .into_response()
}

/// A 200 response with an answer made or kept by the service: gzip-compressed when the request
/// accepts it, else its chunks as they are. Either way it varies with `Accept-Encoding`.
pub(crate) async fn answer_response(answer: Arc<Answer>, headers: &HeaderMap) -> Response {
    let gzip = if accepts_gzip(headers) {
        answer.gzip().await
    } else {
        None
    };
    let mut response = match gzip {
        Some(body) => {
            let mut response = json_response(body);
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            response
        }
        None if answer.chunks().len() == 1 => json_response(answer.chunks()[0].clone()),
        None => {
            let chunks = (0..answer.chunks().len())
                .map(move |i| Ok::<_, std::convert::Infallible>(answer.chunks()[i].clone()));
            json_response(Body::from_stream(futures_util::stream::iter(chunks)))
        }
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// Whether `Accept-Encoding` names gzip (or `*`) with a weight above zero.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
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
