//! Entity reads: `GET /entities` (bare array, `Link` paging, streamed when unpaged), by-query with
//! cursors, by-name, by-uid, by-refs; and `DELETE /entities/by-uid/{uid}`.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::{TAG, answer_response, check_params, filter_of, json_array, json_response, parse_u64};
use crate::catalog::Catalog;
use crate::catalog::entities::{Chunks, Cursor, EntityList, FieldPath, Fields, Listing, Order};
use crate::catalog::query::{EntityQuery, FullText as Term, QueryFrom, QueryStart};
use crate::catalog::service::CatalogError;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::{AppJson, QueryPairs};

/// Entities matching the filters: a bare JSON array. With `offset`, `limit` or `after` the answer
/// is one page, and a `Link: <...>; rel="next"` header points at the next one.
#[utoipa::path(get, path = "/api/catalog/entities", tag = TAG, operation_id = "catalog_get_entities",
    params(
        ("filter" = Option<Vec<String>>, Query, description = "`key=value,key2` (AND); repeat for OR; the same key twice in one filter is OR"),
        ("fields" = Option<String>, Query, description = "Comma-separated dotted paths to keep, e.g. `kind,metadata.name`"),
        ("order" = Option<Vec<String>>, Query, description = "`asc:<field>` or `desc:<field>`; repeatable"),
        ("offset" = Option<u64>, Query, description = "Rows to skip (pages)"),
        ("limit" = Option<u64>, Query, description = "Page size, at least 1"),
        ("after" = Option<String>, Query, description = "The cursor from a `Link` header"),
    ),
    responses(
        (status = 200, description = "The matching entities", body = Vec<Object>),
        (status = 400, description = "A malformed parameter, or an unknown one", body = ErrorBody),
    ))]
pub async fn get_entities(
    State(catalog): State<Catalog>,
    headers: HeaderMap,
    params: QueryPairs,
) -> Result<Response, AppError> {
    check_params(
        &params,
        &["filter", "fields", "order", "offset", "limit", "after"],
    )?;
    let mut order = Vec::new();
    for o in params.all("order") {
        let parsed = match o.split_once(':') {
            Some(("asc", f)) => FieldPath::parse(f).map(|field| Order {
                field,
                descending: false,
            }),
            Some(("desc", f)) => FieldPath::parse(f).map(|field| Order {
                field,
                descending: true,
            }),
            _ => None,
        };
        order.push(parsed.ok_or_else(|| {
            AppError::BadRequest(format!(
                "Invalid order parameter \"{o}\", expected \"<asc or desc>:<field name>\""
            ))
        })?);
    }
    let list = EntityList {
        filter: filter_of(&params.all("filter"))?,
        order,
        fields: Fields::parse(&params.all("fields"))?,
        offset: parse_u64("offset", params.last("offset"))?,
        limit: parse_u64("limit", params.last("limit"))?,
        after: params.last("after").map(Cursor::new),
    };
    match catalog.list(list).await? {
        Listing::Stream(pages) => Ok(streamed(pages)),
        Listing::Kept(answer) => Ok(answer_response(answer, &headers).await),
        Listing::Page { items, next } => {
            let mut response = json_response(json_array(&items));
            if let Some(cursor) = next {
                let mut next: Vec<(String, String)> = params
                    .0
                    .iter()
                    .filter(|(k, _)| k != "offset" && k != "after")
                    .cloned()
                    .collect();
                next.push(("after".into(), cursor.as_str().to_owned()));
                let query = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(next)
                    .finish();
                if let Ok(link) =
                    HeaderValue::from_str(&format!("</api/catalog/entities?{query}>; rel=\"next\""))
                {
                    response.headers_mut().insert(header::LINK, link);
                }
            }
            Ok(response)
        }
    }
}

/// A streamed list as one JSON array, written chunk by chunk.
fn streamed(chunks: Chunks) -> Response {
    let chunks = chunks.map(|chunk| {
        chunk.map_err(|e| {
            if let CatalogError::Conflict(_) = e {
                tracing::warn!(error = %e, "GET /entities: aborting the answer");
            } else {
                tracing::error!(error = %e, "streaming GET /entities failed; aborting the answer");
            }
            std::io::Error::other("database error")
        })
    });
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        Body::from_stream(chunks),
    )
        .into_response()
}

/// One page of a query, with a cursor for the next.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(
    dead_code,
    reason = "the OpenAPI document's schema of the page `Catalog::query_json` writes"
)]
pub struct QueryPage {
    /// The stored JSON of each entity, written out as it is (not parsed and re-serialised).
    #[schema(value_type = Vec<Object>)]
    items: Vec<String>,
    total_items: i64,
    page_info: PageInfo,
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code, reason = "the OpenAPI document's schema of `pageInfo`")]
pub struct PageInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev_cursor: Option<String>,
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, Deserialize, Clone, ToSchema)]
pub struct OrderField {
    field: String,
    order: String,
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, Deserialize, Clone, ToSchema)]
pub struct FullText {
    term: String,
    #[serde(default)]
    fields: Option<Vec<String>>,
}

/// Entities matching the filters, one page at a time with opaque cursors, and the total count.
#[utoipa::path(get, path = "/api/catalog/entities/by-query", tag = TAG, operation_id = "catalog_query_entities",
    params(
        ("filter" = Option<Vec<String>>, Query, description = "As for GET /entities"),
        ("fields" = Option<String>, Query, description = "Comma-separated dotted paths to keep"),
        ("limit" = Option<u64>, Query, description = "Page size (default 200; 0 gives only totalItems)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip on the first page"),
        ("orderField" = Option<Vec<String>>, Query, description = "`<field>,asc|desc`; the first one is used"),
        ("cursor" = Option<String>, Query, description = "`pageInfo.nextCursor` of the previous page"),
        ("totalItems" = Option<String>, Query, description = "`include` (default) or `exclude`"),
        ("fullTextFilterTerm" = Option<String>, Query, description = "Case-insensitive substring to look for"),
        ("fullTextFilterFields" = Option<String>, Query, description = "Comma-separated fields to search (default: the order field, else metadata.uid)"),
    ),
    responses(
        (status = 200, description = "One page", body = QueryPage),
        (status = 400, description = "A malformed parameter or cursor", body = ErrorBody),
    ))]
pub async fn query_entities(
    State(catalog): State<Catalog>,
    headers: HeaderMap,
    params: QueryPairs,
) -> Result<Response, AppError> {
    check_params(
        &params,
        &[
            "filter",
            "fields",
            "limit",
            "offset",
            "orderField",
            "cursor",
            "totalItems",
            "fullTextFilterTerm",
            "fullTextFilterFields",
        ],
    )?;
    let fields = Fields::parse(&params.all("fields"))?;
    let limit = parse_u64("limit", params.last("limit"))?;
    if let Some(cursor) = params.last("cursor") {
        let from = QueryFrom::Cursor(Cursor::new(cursor));
        return query_page(&catalog, &headers, from, fields, limit).await;
    }
    let mut order = None;
    if let Some(o) = params.all("orderField").first() {
        let (field, direction) = o.split_once(',').unwrap_or((o.as_str(), "asc"));
        order = match (FieldPath::parse(field), direction) {
            (Some(field), "asc" | "desc") => Some(Order {
                field,
                descending: direction == "desc",
            }),
            _ => {
                return Err(AppError::BadRequest(format!(
                    "Invalid orderField \"{o}\", expected \"<field>,<asc or desc>\""
                )));
            }
        };
    }
    let include_total = match params.last("totalItems") {
        None | Some("include") => true,
        Some("exclude") => false,
        Some(other) => {
            return Err(AppError::BadRequest(format!(
                "Invalid totalItems '{other}': use include or exclude"
            )));
        }
    };
    let full_text = params
        .last("fullTextFilterTerm")
        .filter(|t| !t.trim().is_empty())
        .map(|term| Term {
            term: term.to_owned(),
            fields: params.last("fullTextFilterFields").map(|f| {
                f.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            }),
        });
    let start = QueryStart {
        filter: params.all("filter"),
        predicate: None,
        order,
        full_text,
        include_total,
        offset: parse_u64("offset", params.last("offset"))?.unwrap_or(0),
    };
    query_page(&catalog, &headers, QueryFrom::Start(start), fields, limit).await
}

/// The body of `POST /entities/by-query`.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QueryBody {
    /// A predicate: `{field: value}`, `{field: {$in | $exists | $hasPrefix | $contains: ..}}`,
    /// `{relations: {$contains: {type, targetRef?}}}`, `$all`, `$any`, `$not`.
    #[schema(value_type = Option<Object>)]
    query: Option<Value>,
    limit: Option<u64>,
    offset: Option<u64>,
    order_by: Option<Vec<OrderField>>,
    full_text_filter: Option<FullText>,
    fields: Option<Vec<String>>,
    /// `include` or `exclude`.
    total_items: Option<String>,
    cursor: Option<String>,
}

/// As `GET /entities/by-query`, with the query as a JSON predicate.
#[utoipa::path(post, path = "/api/catalog/entities/by-query", tag = TAG, operation_id = "catalog_query_entities_post",
    request_body = QueryBody,
    responses(
        (status = 200, description = "One page", body = QueryPage),
        (status = 400, description = "A malformed predicate or cursor", body = ErrorBody),
    ))]
pub async fn query_entities_post(
    State(catalog): State<Catalog>,
    headers: HeaderMap,
    AppJson(body): AppJson<QueryBody>,
) -> Result<Response, AppError> {
    let fields = Fields::parse(&body.fields.unwrap_or_default())?;
    if let Some(cursor) = body.cursor {
        let from = QueryFrom::Cursor(Cursor::new(cursor));
        return query_page(&catalog, &headers, from, fields, body.limit).await;
    }
    let order = body.order_by.unwrap_or_default().into_iter().next();
    let start = QueryStart {
        filter: Vec::new(),
        predicate: body.query,
        order: order.map(|o| Order {
            descending: o.order == "desc",
            field: FieldPath::new(o.field),
        }),
        full_text: body.full_text_filter.map(|f| Term {
            term: f.term,
            fields: f.fields,
        }),
        include_total: body.total_items.as_deref() != Some("exclude"),
        offset: body.offset.unwrap_or(0),
    };
    query_page(
        &catalog,
        &headers,
        QueryFrom::Start(start),
        fields,
        body.limit,
    )
    .await
}

async fn query_page(
    catalog: &Catalog,
    headers: &HeaderMap,
    from: QueryFrom,
    fields: Fields,
    limit: Option<u64>,
) -> Result<Response, AppError> {
    let query = EntityQuery {
        from,
        fields,
        limit,
    };
    Ok(answer_response(catalog.query_json(query).await?, headers).await)
}

/// One entity by kind, namespace and name (case-insensitive).
#[utoipa::path(get, path = "/api/catalog/entities/by-name/{kind}/{namespace}/{name}", tag = TAG, operation_id = "catalog_get_entity_by_name",
    params(("kind" = String, Path), ("namespace" = String, Path), ("name" = String, Path)),
    responses(
        (status = 200, description = "The entity", body = Object),
        (status = 404, description = "No such entity", body = ErrorBody),
    ))]
pub async fn by_name(
    State(catalog): State<Catalog>,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    let body = catalog.entity_by_name(&kind, &namespace, &name).await?;
    Ok(json_response(body))
}

/// One entity by its `metadata.uid`.
#[utoipa::path(get, path = "/api/catalog/entities/by-uid/{uid}", tag = TAG, operation_id = "catalog_get_entity_by_uid",
    params(("uid" = String, Path)),
    responses(
        (status = 200, description = "The entity", body = Object),
        (status = 404, description = "No such entity", body = ErrorBody),
    ))]
pub async fn by_uid(
    State(catalog): State<Catalog>,
    Path(uid): Path<String>,
) -> Result<Response, AppError> {
    Ok(json_response(catalog.entity_by_uid(&uid).await?))
}

/// Deletes one entity. If its location still lists it, it comes back on the next refresh.
#[utoipa::path(delete, path = "/api/catalog/entities/by-uid/{uid}", tag = TAG, operation_id = "catalog_delete_entity_by_uid",
    params(("uid" = String, Path)),
    responses((status = 204, description = "Deleted (also for an unknown uid, as Backstage does)")))]
pub async fn delete_by_uid(
    State(catalog): State<Catalog>,
    Path(uid): Path<String>,
) -> Result<StatusCode, AppError> {
    catalog.delete_entity(&uid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body of `POST /entities/by-refs`.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ByRefsBody {
    entity_refs: Vec<String>,
    #[serde(default)]
    fields: Option<Vec<String>>,
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
pub struct ByRefsResponse {
    /// One item per requested ref, in order; `null` where there is no such entity.
    #[schema(value_type = Vec<Option<Object>>)]
    items: Vec<Value>,
}

/// Several entities by ref, in the order asked, `null` for missing ones.
#[utoipa::path(post, path = "/api/catalog/entities/by-refs", tag = TAG, operation_id = "catalog_get_entities_by_refs",
    params(("filter" = Option<Vec<String>>, Query, description = "Only entities also matching this")),
    request_body = ByRefsBody,
    responses(
        (status = 200, description = "The entities", body = ByRefsResponse),
        (status = 400, description = "A malformed body or filter", body = ErrorBody),
    ))]
pub async fn by_refs(
    State(catalog): State<Catalog>,
    params: QueryPairs,
    AppJson(body): AppJson<ByRefsBody>,
) -> Result<Json<ByRefsResponse>, AppError> {
    check_params(&params, &["filter"])?;
    let filter = filter_of(&params.all("filter"))?;
    let fields = Fields::parse(&body.fields.unwrap_or_default())?;
    let items = catalog
        .entities_by_refs(&body.entity_refs, &filter, &fields)
        .await?;
    Ok(Json(ByRefsResponse { items }))
}
