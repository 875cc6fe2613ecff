//! The catalog's entity reads and their rules: lists (`GET /entities`, streamed or paged),
//! entities by name, uid or ref, deletes; by-query pages are in [`query`](super::query), facets
//! in [`facets`](super::facets).
//! Handlers (`http/entities.rs`, `http/misc.rs`) parse the request into the types here and
//! render what comes back; the SQL is the store's.

use std::sync::Arc;

use axum::body::Bytes;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::answers::{self, Answer, Built};
use super::filter::{Filter, limits, project, project_text};
use super::model::EntityRef;
use super::predicate::predicate_filter;
use super::search::search_rows;
use super::service::{Catalog, CatalogError};
use super::store::{CatalogStore, DefaultOrder, EntityRow, EntitySnapshot, RowQuery};

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
    /// Every match as one JSON array, in chunks, so it is never all in memory at once.
    Stream(Chunks),
    /// Every match as one JSON array, kept since it was last made (see
    /// [`answers`](super::answers)).
    Kept(Arc<Answer>),
}

/// Where a list's pages are read: all in one snapshot (an answer made whole before it is sent),
/// or each in a read transaction of its own that must see the catalog's stored version of the
/// first (a list streamed to its client: no connection is held while the client reads).
enum Pages {
    Snapshot(Box<dyn EntitySnapshot>),
    Pinned {
        store: Arc<dyn CatalogStore>,
        version: Option<i64>,
    },
}

impl Pages {
    /// The rows of `query`; for pinned pages, an error when the catalog changed since the first
    /// page (the answer is then aborted, never sent as half of one state and half of another).
    async fn query(&mut self, query: &RowQuery) -> Result<Vec<EntityRow>, CatalogError> {
        match self {
            Pages::Snapshot(snapshot) => Ok(snapshot.query(query).await?),
            Pages::Pinned { store, version } => {
                let mut snapshot = store.snapshot().await?;
                let now = snapshot.version().await?;
                if *version.get_or_insert(now) != now {
                    return Err(CatalogError::Conflict(
                        "the catalog changed while this list was being sent; ask again".into(),
                    ));
                }
                Ok(snapshot.query(query).await?)
            }
        }
    }
}

/// A streamed list's JSON array, in chunks.
pub type Chunks = BoxStream<'static, Result<Bytes, CatalogError>>;

/// The part of a JSON array holding `items`: `[` before the first item of the array (`first`:
/// none written yet), a comma before every other, `]` after the last page.
fn array_chunk(items: &[String], first: bool, last: bool) -> Bytes {
    let mut chunk = String::with_capacity(items.iter().map(|i| i.len() + 1).sum::<usize>() + 2);
    if first {
        chunk.push('[');
    }
    for (i, item) in items.iter().enumerate() {
        if !(first && i == 0) {
            chunk.push(',');
        }
        chunk.push_str(item);
    }
    if last {
        chunk.push(']');
    }
    Bytes::from(chunk)
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
            return self.stream(list).await;
        }
        let (offset, limit) = (offset.unwrap_or(0), limit.unwrap_or(u64::MAX / 4));
        let mut query = RowQuery::new(list.filter);
        query.order = rows_order(&list.order);
        query.default_order = DefaultOrder::EntityRef;
        query.offset = offset;
        query.limit = Some(limit.saturating_add(1));
        // A short page of a filter matching many entities: walk the ref index and test each
        // entity, instead of looking every match up and sorting them all for a few (a page of
        // 20 of 19,000 matches took 470 ms). A filter matching few keeps its lookups.
        let reach = offset.saturating_add(limit);
        if list.order.is_empty() && !query.filter.any_of.is_empty() && reach < STREAM_PAGE {
            query.many_matches = self
                .store
                .matches_at_least(&query.filter, STREAM_PAGE)
                .await?;
        }
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

    /// Every match of `list` as one JSON array, in chunks. Where the catalog has a version (one
    /// writer), the answer is kept until it changes (see [`answers`](super::answers)), so a
    /// repeated list is the bytes already made; otherwise, or when it is too large to keep, it
    /// is read a page at a time, each page a read transaction of its own (a stream holds no
    /// connection while its client reads), all at the catalog's stored version of the first: a
    /// change committed between two pages aborts the answer rather than mixing two states.
    async fn stream(&self, list: EntityList) -> Result<Listing, CatalogError> {
        let mut query = RowQuery::new(list.filter);
        query.default_order = DefaultOrder::Uid;
        query.require_order_value = !list.order.is_empty();
        query.order = rows_order(&list.order).into_iter().take(1).collect();
        query.limit = Some(STREAM_PAGE);
        let fields = Arc::new(list.fields);
        if let Some(version) = self.store.version().filter(|_| self.answers.enabled()) {
            let key = format!("list {:?} {:?} {:?}", query.filter, query.order, fields);
            let store = self.store.clone();
            let answer = self
                .answers
                .get_or_build(
                    &key,
                    version,
                    move || store.version(),
                    || self.collect(query.clone(), fields.clone()),
                )
                .await?;
            if let Some(answer) = answer {
                return Ok(Listing::Kept(answer));
            }
        }
        Ok(Listing::Stream(self.pages(query, fields, false).await?))
    }

    /// The whole answer of `query`, unless it is larger than an answer kept may be.
    async fn collect(&self, query: RowQuery, fields: Arc<Fields>) -> Result<Built, CatalogError> {
        let mut pages = self.pages(query, fields, true).await?;
        let (mut chunks, mut size) = (Vec::new(), 0);
        while let Some(chunk) = pages.next().await {
            let chunk = chunk?;
            size += chunk.len();
            if size > answers::MAX_ANSWER {
                return Ok(Built::TooLarge);
            }
            chunks.push(chunk);
        }
        Ok(Built::Answer(chunks))
    }

    /// Every match of `query` as one JSON array, a page at a time (keyset on uid, or on the first
    /// order key); with `consistent`, all pages are read in one snapshot of the catalog (which
    /// holds a connection until the last page), else each page is read on its own, pinned to the
    /// stored version of the first (see [`Pages`]). The
    /// first page is read before
    /// this returns, so a failure there is an error answer, not a stream that breaks off at once;
    /// a later page that fails ends the stream with the error (the HTTP layer then aborts the
    /// answer, so it never passes for complete). At most [`Catalog::stream_pages`] pages are read
    /// and written at once.
    async fn pages(
        &self,
        mut query: RowQuery,
        fields: Arc<Fields>,
        consistent: bool,
    ) -> Result<Chunks, CatalogError> {
        let mut snapshot = if consistent {
            Pages::Snapshot(self.store.snapshot().await?)
        } else {
            Pages::Pinned {
                store: self.store.clone(),
                version: None,
            }
        };
        let first = {
            let _permit = self.stream_pages.acquire().await;
            snapshot.query(&query).await?
        };
        query.many_matches = first.len() as u64 == STREAM_PAGE;
        let permits = self.stream_pages.clone();
        let state = Some((snapshot, query, Some(first), true));
        let pages = futures_util::stream::unfold(state, move |state| {
            let (permits, fields) = (permits.clone(), fields.clone());
            async move {
                let (mut snapshot, mut query, read, first) = state?;
                let Ok(_permit) = permits.acquire_owned().await else {
                    let closed = CatalogError::Invalid("the catalog is shutting down".into());
                    return Some((Err(closed), None));
                };
                let rows = match read {
                    Some(rows) => rows,
                    None => match snapshot.query(&query).await {
                        Ok(rows) => rows,
                        Err(e) => return Some((Err(e), None)),
                    },
                };
                let last = (rows.len() as u64) < STREAM_PAGE;
                query.many_matches = !last;
                if let Some(row) = rows.last() {
                    query.after = Some((row.sort_value.clone(), row.uid.clone()));
                }
                let wrote_none = first && rows.is_empty();
                let items: Vec<String> = rows.into_iter().map(|r| fields.project(r.body)).collect();
                let chunk = array_chunk(&items, first, last);
                let next = (!last).then_some((snapshot, query, None, wrote_none));
                Some((Ok(chunk), next))
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
}

/// A list's order as the store takes it: the key as written, and whether descending.
fn rows_order(order: &[Order]) -> Vec<(String, bool)> {
    order
        .iter()
        .map(|o| (o.field.0.clone(), o.descending))
        .collect()
}
