//! Entity reads: `GET /entities` (bare array, `Link` paging, streamed when unpaged), by-query with
//! cursors, by-name, by-uid, by-refs; and `DELETE /entities/by-uid/{uid}`.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{
    TAG, decode_cursor, encode_cursor, fields_of, filter_of, json_array, json_response, parse_u64,
    predicate_of, projected,
};
use crate::catalog::Catalog;
use crate::catalog::filter::Filter;
use crate::catalog::model::EntityRef;
use crate::catalog::search::search_rows;
use crate::catalog::store::{DefaultOrder, EntityQuery, EntityRow};
use crate::error::{AppError, ErrorBody};
use crate::http::extract::{AppJson, QueryPairs};

/// Page size used when streaming the whole catalog.
const STREAM_PAGE: u64 = 1000;

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
    params: QueryPairs,
) -> Result<Response, AppError> {
    params.check(&["filter", "fields", "order", "offset", "limit", "after"])?;
    let filter = filter_of(&params.all("filter"))?;
    let fields = fields_of(&params.all("fields"))?;
    let mut order = Vec::new();
    for o in params.all("order") {
        let parsed = match o.split_once(':') {
            Some(("asc", f)) if !f.trim().is_empty() => (f.trim().to_owned(), false),
            Some(("desc", f)) if !f.trim().is_empty() => (f.trim().to_owned(), true),
            _ => {
                return Err(AppError::BadRequest(format!(
                    "Invalid order parameter \"{o}\", expected \"<asc or desc>:<field name>\""
                )));
            }
        };
        order.push(parsed);
    }
    let mut offset = parse_u64("offset", params.last("offset"))?;
    let mut limit = parse_u64("limit", params.last("limit"))?;
    if limit == Some(0) {
        return Err(AppError::BadRequest(
            "Invalid limit, must be greater than zero".into(),
        ));
    }
    let after = params.last("after");
    if let Some(after) = after {
        if after.is_empty() {
            return Err(AppError::BadRequest(
                "Invalid after cursor: it is empty".into(),
            ));
        }
        #[derive(Deserialize)]
        struct After {
            limit: Option<u64>,
            offset: Option<u64>,
        }
        let decoded: After = decode_cursor(after, "after cursor")?;
        limit = decoded.limit.or(limit);
        offset = decoded.offset.or(offset);
    }
    let paginated = offset.is_some() || limit.is_some() || after.is_some();
    if !paginated {
        return Ok(stream_all(catalog, filter, order, fields));
    }
    let (offset, limit) = (offset.unwrap_or(0), limit.unwrap_or(u64::MAX / 4));
    let mut query = EntityQuery::new(filter);
    query.order = order;
    query.default_order = DefaultOrder::EntityRef;
    query.offset = offset;
    query.limit = Some(limit.saturating_add(1));
    let mut rows = catalog.store.query(&query).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let mut response = json_response(json_array(rows.iter().map(|r| r.body.as_str()), &fields));
    if more {
        let cursor = encode_cursor(&json!({"limit": limit, "offset": offset + limit}));
        let mut next: Vec<(String, String)> = params
            .0
            .iter()
            .filter(|(k, _)| k != "offset" && k != "after")
            .cloned()
            .collect();
        next.push(("after".into(), cursor));
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

/// The whole result, written page by page (keyset on uid) so it is never all in memory.
fn stream_all(
    catalog: Catalog,
    filter: Filter,
    order: Vec<(String, bool)>,
    fields: Vec<String>,
) -> Response {
    let mut query = EntityQuery::new(filter);
    query.default_order = DefaultOrder::Uid;
    query.require_order_value = !order.is_empty();
    query.order = order.into_iter().take(1).collect();
    query.limit = Some(STREAM_PAGE);
    let start = (query, true, false);
    let stream = futures_util::stream::unfold(start, move |(mut query, first, done)| {
        let catalog = catalog.clone();
        let fields = fields.clone();
        async move {
            if done {
                return None;
            }
            let Ok(_permit) = catalog.stream_pages.acquire().await else {
                return None;
            };
            let rows = match catalog.store.query(&query).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(error = %e, "streaming GET /entities failed");
                    return Some((
                        Err(std::io::Error::other("database error")),
                        (query, false, true),
                    ));
                }
            };
            let last_page = (rows.len() as u64) < STREAM_PAGE;
            let mut chunk =
                String::with_capacity(rows.iter().map(|r| r.body.len() + 1).sum::<usize>() + 2);
            if first {
                chunk.push('[');
            }
            for (i, row) in rows.iter().enumerate() {
                if !(first && i == 0) {
                    chunk.push(',');
                }
                chunk.push_str(&projected(&row.body, &fields));
            }
            if last_page {
                chunk.push(']');
            }
            let first = first && rows.is_empty();
            query.many_matches = !last_page;
            if let Some(row) = rows.last() {
                query.after = Some((row.sort_value.clone(), row.uid.clone()));
            }
            Some((
                Ok::<_, std::io::Error>(Bytes::from(chunk)),
                (query, first, last_page),
            ))
        }
    });
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        Body::from_stream(stream),
    )
        .into_response()
}

/// One page of a query, with a cursor for the next.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueryPage {
    /// The stored JSON of each entity, written out as it is (not parsed and re-serialised).
    #[schema(value_type = Vec<Object>)]
    items: Vec<String>,
    total_items: i64,
    page_info: PageInfo,
}

impl IntoResponse for QueryPage {
    fn into_response(self) -> Response {
        let size = self.items.iter().map(|i| i.len() + 1).sum::<usize>() + 128;
        let mut body = String::with_capacity(size);
        body.push_str("{\"items\":[");
        body.push_str(&self.items.join(","));
        body.push_str("],\"totalItems\":");
        body.push_str(&self.total_items.to_string());
        body.push_str(",\"pageInfo\":");
        body.push_str(&serde_json::to_string(&self.page_info).unwrap_or_else(|_| "{}".into()));
        body.push('}');
        json_response(body)
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev_cursor: Option<String>,
}

/// What a by-query cursor carries: the whole query, and where the last page ended.
#[derive(Serialize, Deserialize, Clone, Default)]
#[serde(rename_all = "camelCase")]
struct Cursor {
    #[serde(default)]
    filter: Vec<String>,
    /// The JSON predicate of `POST /entities/by-query`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    query: Option<Value>,
    #[serde(default)]
    order_fields: Vec<OrderField>,
    #[serde(default)]
    full_text_filter: Option<FullText>,
    #[serde(default)]
    total_items: i64,
    #[serde(default)]
    include_total: bool,
    /// `(sort value, uid)` of the item the page starts after (before, for a previous page).
    #[serde(default)]
    last: Option<(Option<String>, String)>,
    /// A previous page: the `limit` items before `last`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    is_previous: bool,
}

#[derive(Serialize, Deserialize, Clone, ToSchema)]
pub struct OrderField {
    field: String,
    order: String,
}

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
    params: QueryPairs,
) -> Result<QueryPage, AppError> {
    params.check(&[
        "filter",
        "fields",
        "limit",
        "offset",
        "orderField",
        "cursor",
        "totalItems",
        "fullTextFilterTerm",
        "fullTextFilterFields",
    ])?;
    let fields = fields_of(&params.all("fields"))?;
    let limit = parse_u64("limit", params.last("limit"))?;
    if let Some(cursor) = params.last("cursor") {
        let cursor: Cursor = decode_cursor(cursor, "cursor")?;
        return run_query(&catalog, cursor, 0, limit, &fields).await;
    }
    let mut order_fields = Vec::new();
    if let Some(o) = params.all("orderField").first() {
        let (field, order) = o.split_once(',').unwrap_or((o.as_str(), "asc"));
        if !matches!(order, "asc" | "desc") || field.trim().is_empty() {
            return Err(AppError::BadRequest(format!(
                "Invalid orderField \"{o}\", expected \"<field>,<asc or desc>\""
            )));
        }
        order_fields.push(OrderField {
            field: field.trim().to_owned(),
            order: order.to_owned(),
        });
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
    let full_text_filter = params
        .last("fullTextFilterTerm")
        .filter(|t| !t.trim().is_empty())
        .map(|term| FullText {
            term: term.to_owned(),
            fields: params.last("fullTextFilterFields").map(|f| {
                f.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            }),
        });
    let cursor = Cursor {
        query: None,
        filter: params.all("filter"),
        order_fields,
        full_text_filter,
        total_items: 0,
        include_total,
        last: None,
        is_previous: false,
    };
    let offset = parse_u64("offset", params.last("offset"))?.unwrap_or(0);
    run_query(&catalog, cursor, offset, limit, &fields).await
}

/// The body of `POST /entities/by-query`.
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
    AppJson(body): AppJson<QueryBody>,
) -> Result<QueryPage, AppError> {
    let fields = fields_of(&body.fields.unwrap_or_default())?;
    if let Some(cursor) = &body.cursor {
        let cursor: Cursor = decode_cursor(cursor, "cursor")?;
        return run_query(&catalog, cursor, 0, body.limit, &fields).await;
    }
    let cursor = Cursor {
        filter: Vec::new(),
        query: body.query,
        order_fields: body
            .order_by
            .unwrap_or_default()
            .into_iter()
            .take(1)
            .collect(),
        full_text_filter: body.full_text_filter,
        total_items: 0,
        include_total: body.total_items.as_deref() != Some("exclude"),
        last: None,
        is_previous: false,
    };
    run_query(
        &catalog,
        cursor,
        body.offset.unwrap_or(0),
        body.limit,
        &fields,
    )
    .await
}

async fn run_query(
    catalog: &Catalog,
    mut cursor: Cursor,
    offset: u64,
    limit: Option<u64>,
    fields: &[String],
) -> Result<QueryPage, AppError> {
    let limit = limit.unwrap_or(200);
    let filter = filter_of(&cursor.filter)?.and(predicate_of(cursor.query.as_ref())?);
    let mut query = EntityQuery::new(filter);
    query.default_order = DefaultOrder::Uid;
    if let Some(o) = cursor.order_fields.first() {
        query.order = vec![(o.field.to_lowercase(), o.order == "desc")];
        query.require_order_value = true;
    }
    if let Some(ft) = &cursor.full_text_filter {
        let keys = match &ft.fields {
            Some(f) if !f.is_empty() => f.iter().map(|k| k.to_lowercase()).collect(),
            _ => vec![
                cursor
                    .order_fields
                    .first()
                    .map_or("metadata.uid".to_owned(), |o| o.field.to_lowercase()),
            ],
        };
        query.full_text = Some((ft.term.trim().to_lowercase(), keys));
    }
    if cursor.last.is_none() && cursor.include_total {
        cursor.total_items = catalog.store.count(&query).await?;
    }
    query.after = cursor.last.clone();
    query.backwards = cursor.is_previous;
    query.offset = offset;
    query.limit = Some(limit.saturating_add(1));
    let mut rows = if limit == 0 {
        Vec::new()
    } else {
        catalog.store.query(&query).await?
    };
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    // A previous page is read nearest first; it is served in order. Items follow a previous page,
    // and precede any page reached through a cursor (or an offset).
    let (more_after, more_before) = if cursor.is_previous {
        rows.reverse();
        (true, more)
    } else {
        (more, cursor.last.is_some() || offset > 0)
    };
    let page_cursor = |row: Option<&EntityRow>, is_previous: bool| {
        let row = row?;
        let mut page = cursor.clone();
        page.last = Some((row.sort_value.clone(), row.uid.clone()));
        page.is_previous = is_previous;
        Some(encode_cursor(
            &serde_json::to_value(&page).unwrap_or_default(),
        ))
    };
    let next_cursor = more_after
        .then(|| page_cursor(rows.last(), false))
        .flatten();
    let prev_cursor = more_before
        .then(|| page_cursor(rows.first(), true))
        .flatten();
    let items = rows.iter().map(|r| projected(&r.body, fields)).collect();
    Ok(QueryPage {
        items,
        total_items: cursor.total_items,
        page_info: PageInfo {
            next_cursor,
            prev_cursor,
        },
    })
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
    let entity_ref = EntityRef::new(&kind, &namespace, &name).to_string();
    let found = catalog.store.by_refs(&[entity_ref]).await?;
    match found.into_iter().next() {
        Some((_, body)) => Ok(json_response(body)),
        None => Err(AppError::NotFound(format!(
            "No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'"
        ))),
    }
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
    match catalog.store.by_uid(&uid.to_lowercase()).await? {
        Some(body) => Ok(json_response(body)),
        None => Err(AppError::NotFound(format!("No entity with uid {uid}"))),
    }
}

/// Deletes one entity. If its location still lists it, it comes back on the next refresh.
#[utoipa::path(delete, path = "/api/catalog/entities/by-uid/{uid}", tag = TAG, operation_id = "catalog_delete_entity_by_uid",
    params(("uid" = String, Path)),
    responses((status = 204, description = "Deleted (also for an unknown uid, as Backstage does)")))]
pub async fn delete_by_uid(
    State(catalog): State<Catalog>,
    Path(uid): Path<String>,
) -> Result<StatusCode, AppError> {
    catalog.store.delete_entity(&uid.to_lowercase()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body of `POST /entities/by-refs`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ByRefsBody {
    entity_refs: Vec<String>,
    #[serde(default)]
    fields: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct ByRefsResponse {
    /// One item per requested ref, in order; `null` where there is no such entity.
    #[schema(value_type = Vec<Object>)]
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
    params.check(&["filter"])?;
    let filter = filter_of(&params.all("filter"))?;
    let fields = fields_of(&body.fields.unwrap_or_default())?;
    let refs: Vec<String> = body
        .entity_refs
        .iter()
        .map(|r| {
            EntityRef::parse(r, None, "default")
                .map(|r| r.to_string())
                .unwrap_or_else(|_| r.to_lowercase())
        })
        .collect();
    let found: std::collections::HashMap<String, String> =
        catalog.store.by_refs(&refs).await?.into_iter().collect();
    let items = refs
        .iter()
        .map(|r| {
            let Some(body) = found.get(r) else {
                return Value::Null;
            };
            let value: Value = serde_json::from_str(body).unwrap_or_default();
            if !filter.any_of.is_empty()
                && !value
                    .as_object()
                    .is_some_and(|e| filter.matches(&search_rows(e)))
            {
                return Value::Null;
            }
            crate::catalog::filter::project(&value, &fields)
        })
        .collect();
    Ok(Json(ByRefsResponse { items }))
}
