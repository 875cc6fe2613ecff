//! One page of a query (`GET` and `POST /entities/by-query`): its filter, order and full-text
//! term, the total, and opaque cursors to the pages after and before it, each carrying the whole
//! query.

use std::sync::Arc;

use axum::body::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::answers::{Answer, Built};
use super::entities::{Cursor, Fields, Order, predicate};
use super::filter::{Filter, limits};
use super::service::{Catalog, CatalogError};
use super::store::{DefaultOrder, EntityRow, RowQuery};

/// Page size of a query that names none.
const DEFAULT_QUERY_LIMIT: u64 = 200;

/// `GET` and `POST /entities/by-query`: one page of a query, and the total.
#[derive(Debug, Clone)]
pub struct EntityQuery {
    /// What to query, or where the previous page ended.
    pub from: QueryFrom,
    /// What to keep of each entity.
    pub fields: Fields,
    /// Page size; 0 gives only the total.
    pub limit: Option<u64>,
}

/// Where a query page starts.
#[derive(Debug, Clone)]
pub enum QueryFrom {
    /// A first page.
    Start(QueryStart),
    /// The page a cursor points at (it carries the whole query).
    Cursor(Cursor),
}

/// The query of a first page.
#[derive(Debug, Clone, Default)]
pub struct QueryStart {
    /// `filter` parameters as written.
    pub filter: Vec<String>,
    /// A JSON predicate (`POST`), as written.
    pub predicate: Option<Value>,
    /// The order key; without one, by uid.
    pub order: Option<Order>,
    /// A substring to look for.
    pub full_text: Option<FullText>,
    /// Whether to count all matches (`totalItems`); only a first page counts.
    pub include_total: bool,
    /// Rows to skip.
    pub offset: u64,
}

/// A case-insensitive substring to look for, in some fields.
#[derive(Debug, Clone)]
pub struct FullText {
    /// The substring, any case.
    pub term: String,
    /// Default: the order field, else `metadata.uid`.
    pub fields: Option<Vec<String>>,
}

/// One page of a query.
pub struct QueryPage {
    /// The projected JSON of each entity.
    pub items: Vec<String>,
    /// How many entities match (0 when not counted).
    pub total_items: i64,
    /// The cursor of the page after this one, when there is one.
    pub next: Option<Cursor>,
    /// The cursor of the page before this one, when there is one.
    pub prev: Option<Cursor>,
}

/// What a query cursor carries: the whole query, and where the last page ended. Its JSON is the
/// cursor's (base64), so its field names are kept as they are.
#[derive(Serialize, Deserialize, Clone, Default)]
#[serde(rename_all = "camelCase")]
struct QueryPosition {
    #[serde(default)]
    filter: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    query: Option<Value>,
    #[serde(default)]
    order_fields: Vec<OrderField>,
    #[serde(default)]
    full_text_filter: Option<FullTextFilter>,
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

#[derive(Serialize, Deserialize, Clone)]
struct OrderField {
    field: String,
    order: String,
}

#[derive(Serialize, Deserialize, Clone)]
struct FullTextFilter {
    term: String,
    #[serde(default)]
    fields: Option<Vec<String>>,
}

impl From<QueryStart> for QueryPosition {
    fn from(start: QueryStart) -> QueryPosition {
        QueryPosition {
            filter: start.filter,
            query: start.predicate,
            order_fields: start
                .order
                .into_iter()
                .map(|o| OrderField {
                    field: o.field.as_str().to_owned(),
                    order: if o.descending { "desc" } else { "asc" }.to_owned(),
                })
                .collect(),
            full_text_filter: start.full_text.map(|f| FullTextFilter {
                term: f.term,
                fields: f.fields,
            }),
            total_items: 0,
            include_total: start.include_total,
            last: None,
            is_previous: false,
        }
    }
}

impl QueryPage {
    /// The page as JSON: `{"items": [...], "totalItems": n, "pageInfo": {...}}`, each item written
    /// out as it is stored (not parsed and serialised again).
    pub fn to_json(&self) -> String {
        let size = self.items.iter().map(|i| i.len() + 1).sum::<usize>() + 128;
        let mut body = String::with_capacity(size);
        body.push_str("{\"items\":[");
        body.push_str(&self.items.join(","));
        body.push_str("],\"totalItems\":");
        body.push_str(&self.total_items.to_string());
        body.push_str(",\"pageInfo\":");
        let info = PageInfo {
            next_cursor: self.next.as_ref().map(Cursor::as_str),
            prev_cursor: self.prev.as_ref().map(Cursor::as_str),
        };
        body.push_str(&serde_json::to_string(&info).unwrap_or_else(|_| "{}".into()));
        body.push('}');
        body
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev_cursor: Option<&'a str>,
}

impl Catalog {
    /// [`Catalog::query`]'s page as JSON. Where the catalog has a version (one writer), the
    /// answer is kept until it changes (see [`answers`](super::answers)).
    pub async fn query_json(&self, query: EntityQuery) -> Result<Arc<Answer>, CatalogError> {
        let made = |page: QueryPage| Answer::new(vec![Bytes::from(page.to_json())]);
        let Some(version) = self.store.version().filter(|_| self.answers.enabled()) else {
            return Ok(made(self.query(query).await?));
        };
        let key = format!("query {query:?}");
        let store = self.store.clone();
        let build = || async {
            let page = self.query(query.clone()).await?;
            Ok::<_, CatalogError>(Built::Answer(vec![page.to_json().into()]))
        };
        let answer = self
            .answers
            .get_or_build(&key, version, move || store.version(), build)
            .await?;
        match answer {
            Some(answer) => Ok(answer),
            None => Ok(made(self.query(query).await?)),
        }
    }

    /// One page of a query, with the cursors of the pages after and before it.
    pub async fn query(&self, query: EntityQuery) -> Result<QueryPage, CatalogError> {
        let (mut position, offset) = match query.from {
            QueryFrom::Start(start) => {
                let offset = start.offset;
                (QueryPosition::from(start), offset)
            }
            QueryFrom::Cursor(cursor) => (cursor.decode("cursor")?, 0),
        };
        let limit = query.limit.unwrap_or(DEFAULT_QUERY_LIMIT);
        let filter = Filter::parse(&position.filter)
            .map_err(CatalogError::Invalid)?
            .and(predicate(position.query.as_ref())?)
            .map_err(CatalogError::Invalid)?;
        let mut rows_query = RowQuery::new(filter);
        rows_query.default_order = DefaultOrder::Uid;
        if let Some(o) = position.order_fields.first() {
            rows_query.order = vec![(o.field.to_lowercase(), o.order == "desc")];
            rows_query.require_order_value = true;
        }
        if let Some(ft) = &position.full_text_filter {
            let keys = match &ft.fields {
                Some(f) if f.len() > limits::MAX_FIELDS => {
                    return Err(CatalogError::Invalid(format!(
                        "Invalid fullTextFilterFields: {} fields; at most {} are allowed",
                        f.len(),
                        limits::MAX_FIELDS
                    )));
                }
                Some(f) if !f.is_empty() => f.iter().map(|k| k.to_lowercase()).collect(),
                _ => vec![
                    position
                        .order_fields
                        .first()
                        .map_or("metadata.uid".to_owned(), |o| o.field.to_lowercase()),
                ],
            };
            rows_query.full_text = Some((ft.term.trim().to_lowercase(), keys));
        }
        if position.last.is_none() && position.include_total {
            position.total_items = self.store.count(&rows_query).await?;
        }
        rows_query.after = position.last.clone();
        rows_query.backwards = position.is_previous;
        rows_query.offset = offset;
        rows_query.limit = Some(limit.saturating_add(1));
        let mut rows = if limit == 0 {
            Vec::new()
        } else {
            self.store.query(&rows_query).await?
        };
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        // A previous page is read nearest first; it is served in order. Items follow a previous
        // page, and precede any page reached through a cursor (or an offset).
        let (more_after, more_before) = if position.is_previous {
            rows.reverse();
            (true, more)
        } else {
            (more, position.last.is_some() || offset > 0)
        };
        let page_cursor = |row: Option<&EntityRow>, is_previous: bool| {
            let row = row?;
            let mut page = position.clone();
            page.last = Some((row.sort_value.clone(), row.uid.clone()));
            page.is_previous = is_previous;
            Some(Cursor::encode(&page))
        };
        let next = more_after
            .then(|| page_cursor(rows.last(), false))
            .flatten();
        let prev = more_before
            .then(|| page_cursor(rows.first(), true))
            .flatten();
        let items = rows
            .into_iter()
            .map(|r| query.fields.project(r.body))
            .collect();
        Ok(QueryPage {
            items,
            total_items: position.total_items,
            next,
            prev,
        })
    }
}
