//! The catalog's entity reads and their rules: lists (`GET /entities`, streamed or paged),
//! entities by name, uid or ref, facets, deletes; by-query pages are in [`query`](super::query).
//! Handlers (`http/entities.rs`, `http/misc.rs`) parse the request into the types here and
//! render what comes back; the SQL is the store's.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::stream::BoxStream;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::OwnedSemaphorePermit;

use super::filter::{Filter, limits, project, project_text};
use super::model::EntityRef;
use super::predicate::predicate_filter;
use super::search::search_rows;
use super::service::{Catalog, CatalogError};
use super::store::{DefaultOrder, RowQuery};

/// Entities per page when a whole list is streamed.
const STREAM_PAGE: u64 = 1000;

/// A dotted field path as the caller wrote it (`metadata.name`, `spec.owner`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath(String);

impl FieldPath {
    /// The path exactly as written.
    pub fn new(text: impl Into<String>) -> FieldPath {
        FieldPath(text.into())
    }

    /// The trimmed path; `None` when it is blank.
    pub fn parse(text: &str) -> Option<FieldPath> {
        let text = text.trim();
        (!text.is_empty()).then(|| FieldPath(text.to_owned()))
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One order key and its direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The field to order by.
    pub field: FieldPath,
    /// Descending (`desc`) rather than ascending.
    pub descending: bool,
}

/// The fields to keep of each entity (`fields`); none keeps the whole entity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(Vec<String>);

impl Fields {
    /// Every `fields` parameter: comma-separated dotted paths, de-duplicated.
    pub fn parse(params: &[String]) -> Result<Fields, CatalogError> {
        super::filter::parse_fields(params)
            .map(Fields)
            .map_err(CatalogError::Invalid)
    }

    /// A stored entity's JSON, projected.
    pub(super) fn project(&self, body: String) -> String {
        if self.0.is_empty() {
            body
        } else {
            project_text(&body, &self.0)
        }
    }
}

/// An opaque position in a list or a query, as handed out with a page and given back for the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

impl Cursor {
    /// A cursor as the caller gave it back.
    pub fn new(text: impl Into<String>) -> Cursor {
        Cursor(text.into())
    }

    /// The cursor as text, for a link or a page's `pageInfo`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(super) fn encode(value: &impl Serialize) -> Cursor {
        let json = serde_json::to_string(value).unwrap_or_default();
        Cursor(STANDARD.encode(json))
    }

    pub(super) fn decode<T: DeserializeOwned>(&self, what: &str) -> Result<T, CatalogError> {
        let bytes = STANDARD
            .decode(self.0.trim())
            .map_err(|e| CatalogError::Invalid(format!("Malformed {what}: not base64 ({e})")))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| CatalogError::Invalid(format!("Malformed {what}: {e}")))
    }
}

/// `GET /entities`: the matching entities, all of them (streamed) or one page.
#[derive(Debug, Clone, Default)]
pub struct EntityList {
    /// Which entities.
    pub filter: Filter,
    /// Order keys, first first; without any, by entity ref (pages) or uid (streams).
    pub order: Vec<Order>,
    /// What to keep of each entity.
    pub fields: Fields,
    /// Entities to skip.
    pub offset: Option<u64>,
    /// Page size (at least 1).
    pub limit: Option<u64>,
    /// The cursor of a `Link: rel="next"` header.
    pub after: Option<Cursor>,
}

/// The answer to an [`EntityList`].
pub enum Listing {
    /// One page of projected entities, and the cursor of the next when there is one.
    Page {
        /// The projected JSON of each entity.
        items: Vec<String>,
        /// The cursor of the next page, when there is one.
        next: Option<Cursor>,
    },
    /// Every match, page by page, so it is never all in memory.
    Stream(BoxStream<'static, Result<StreamPage, CatalogError>>),
}

/// A page of a streamed list. Holding it holds one of the few pages read at once (see
/// [`Catalog::stream_pages`]).
pub struct StreamPage {
    /// The projected JSON of each entity of the page.
    pub items: Vec<String>,
    /// No page follows.
    pub last: bool,
    _permit: OwnedSemaphorePermit,
}

/// What a list's `after` cursor carries.
#[derive(Serialize, Deserialize)]
struct ListPosition {
    limit: Option<u64>,
    offset: Option<u64>,
}

/// The filter of a JSON predicate; none matches everything.
pub fn predicate(predicate: Option<&Value>) -> Result<Filter, CatalogError> {
    predicate.map_or(Ok(Filter::default()), |p| {
        predicate_filter(p).map_err(CatalogError::Invalid)
    })
}

impl Catalog {
    /// The entities of `list`: streamed when it names no page, else one page.
    pub async fn list(&self, list: EntityList) -> Result<Listing, CatalogError> {
        if list.order.len() > limits::MAX_ORDER_FIELDS {
            return Err(CatalogError::Invalid(format!(
                "Invalid order: {} order fields; at most {} are allowed",
                list.order.len(),
                limits::MAX_ORDER_FIELDS
            )));
        }
        let (mut offset, mut limit) = (list.offset, list.limit);
        if limit == Some(0) {
            return Err(CatalogError::Invalid(
                "Invalid limit, must be greater than zero".into(),
            ));
        }
        if let Some(after) = &list.after {
            if after.as_str().is_empty() {
                return Err(CatalogError::Invalid(
                    "Invalid after cursor: it is empty".into(),
                ));
            }
            let position: ListPosition = after.decode("after cursor")?;
            limit = position.limit.or(limit);
            offset = position.offset.or(offset);
        }
        if offset.is_none() && limit.is_none() && list.after.is_none() {
            return Ok(Listing::Stream(self.stream(list).await?));
        }
        let (offset, limit) = (offset.unwrap_or(0), limit.unwrap_or(u64::MAX / 4));
        let mut query = RowQuery::new(list.filter);
        query.order = rows_order(&list.order);
        query.default_order = DefaultOrder::EntityRef;
        query.offset = offset;
        query.limit = Some(limit.saturating_add(1));
        let mut rows = self.store.query(&query).await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next = more.then(|| Cursor::encode(&json!({"limit": limit, "offset": offset + limit})));
        let items = rows
            .into_iter()
            .map(|r| list.fields.project(r.body))
            .collect();
        Ok(Listing::Page { items, next })
    }

    /// Every match of `list`, a page at a time (keyset on uid, or on the first order key). The
    /// first page is read before this returns, so a failure there is an error answer, not a
    /// stream that breaks off at once; a later page that fails ends the stream with the error
    /// (the HTTP layer then aborts the answer, so it never passes for complete).
    async fn stream(
        &self,
        list: EntityList,
    ) -> Result<BoxStream<'static, Result<StreamPage, CatalogError>>, CatalogError> {
        let mut query = RowQuery::new(list.filter);
        query.default_order = DefaultOrder::Uid;
        query.require_order_value = !list.order.is_empty();
        query.order = rows_order(&list.order).into_iter().take(1).collect();
        query.limit = Some(STREAM_PAGE);
        let (catalog, fields) = (self.clone(), Arc::new(list.fields));
        let first = {
            let _permit = self.stream_pages.acquire().await;
            self.store.query(&query).await?
        };
        let pages =
            futures_util::stream::unfold((Some(query), Some(first)), move |(query, read)| {
                let (catalog, fields) = (catalog.clone(), fields.clone());
                async move {
                    let mut query = query?;
                    let Ok(permit) = catalog.stream_pages.clone().acquire_owned().await else {
                        let closed = CatalogError::Invalid("the catalog is shutting down".into());
                        return Some((Err(closed), (None, None)));
                    };
                    let rows = match read {
                        Some(rows) => rows,
                        None => match catalog.store.query(&query).await {
                            Ok(rows) => rows,
                            Err(e) => return Some((Err(e.into()), (None, None))),
                        },
                    };
                    let last = (rows.len() as u64) < STREAM_PAGE;
                    query.many_matches = !last;
                    if let Some(row) = rows.last() {
                        query.after = Some((row.sort_value.clone(), row.uid.clone()));
                    }
                    let items = rows.into_iter().map(|r| fields.project(r.body)).collect();
                    let page = StreamPage {
                        items,
                        last,
                        _permit: permit,
                    };
                    Some((Ok(page), ((!last).then_some(query), None)))
                }
            });
        Ok(Box::pin(pages))
    }

    /// The served JSON of one entity by kind, namespace and name (case-insensitive).
    pub async fn entity_by_name(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<String, CatalogError> {
        let entity_ref = EntityRef::new(kind, namespace, name).to_string();
        let found = self.store.by_refs(&[entity_ref]).await?;
        found
            .into_iter()
            .next()
            .map(|(_, body)| body)
            .ok_or_else(|| {
                CatalogError::NotFound(format!(
                    "No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'"
                ))
            })
    }

    /// The served JSON of one entity by its `metadata.uid`.
    pub async fn entity_by_uid(&self, uid: &str) -> Result<String, CatalogError> {
        self.store
            .by_uid(&uid.to_lowercase())
            .await?
            .ok_or_else(|| CatalogError::NotFound(format!("No entity with uid {uid}")))
    }

    /// Deletes one entity; an unknown uid is no error (as Backstage).
    pub async fn delete_entity(&self, uid: &str) -> Result<(), CatalogError> {
        let uid = uid.to_lowercase();
        let owner = match self.store.by_uid(&uid).await? {
            Some(body) => {
                let entity: Value = serde_json::from_str(&body).unwrap_or_default();
                let entity_ref = entity
                    .as_object()
                    .map(|e| EntityRef::of(e).to_string())
                    .unwrap_or_default();
                self.store.owner_location(&entity_ref).await?
            }
            None => None,
        };
        self.store.delete_entity(&uid).await?;
        // As in Backstage, the location that emitted it is processed again at once: while its
        // file still lists the entity, it comes back (with a new uid).
        if let Some(id) = owner {
            self.reprocess(&id).await?;
        }
        Ok(())
    }

    /// The entities with these refs, in the order asked, projected; `null` where there is none or
    /// it does not match `filter`.
    pub async fn entities_by_refs(
        &self,
        refs: &[String],
        filter: &Filter,
        fields: &Fields,
    ) -> Result<Vec<Value>, CatalogError> {
        if refs.len() > limits::MAX_REFS {
            return Err(CatalogError::Invalid(format!(
                "Invalid entityRefs: {} refs; at most {} are allowed in one request",
                refs.len(),
                limits::MAX_REFS
            )));
        }
        // As in Backstage, each ref is matched as given (lower-cased): no kind or namespace is
        // filled in, so `api:checkout-api` finds nothing.
        let refs: Vec<String> = refs.iter().map(|r| r.to_lowercase()).collect();
        let found: std::collections::HashMap<String, String> =
            self.store.by_refs(&refs).await?.into_iter().collect();
        Ok(refs
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
                project(&value, &fields.0)
            })
            .collect())
    }

    /// Per facet (a field), each value as written and how many entities matching `filter` have
    /// it.
    pub async fn facets(
        &self,
        facets: Vec<String>,
        filter: &Filter,
    ) -> Result<BTreeMap<String, Vec<(String, i64)>>, CatalogError> {
        let mut counts = BTreeMap::new();
        for facet in facets {
            let values = self.store.facet(&facet, filter).await?;
            counts.insert(facet, values);
        }
        Ok(counts)
    }
}

/// A list's order as the store takes it: the key as written, and whether descending.
fn rows_order(order: &[Order]) -> Vec<(String, bool)> {
    order
        .iter()
        .map(|o| (o.field.0.clone(), o.descending))
        .collect()
}
