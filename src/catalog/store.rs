//! Catalog persistence, split by operation: [`Locations`] (registered locations and their
//! processing state, [`locations`]), [`EntityWrites`] (storing what a location produced, deletes,
//! [`write`] and [`rows`]) and [`EntityReads`] (queries, counts, facets, [`read`] over the SQL of
//! [`query`]). One implementation, [`SqlCatalogStore`], generic over the backend, serves SQLite
//! and PostgreSQL; [`dialect`] holds the few statements that differ. Entities are kept with their
//! flattened search rows, so every filter is index lookups on `catalog_search (key, value)`.

mod counts;
pub mod dialect;
pub mod locations;
pub mod query;
pub mod read;
mod rows;
mod snapshot;
pub mod write;

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::Pool;

use super::filter::Filter;
use super::model::{Location, LocationSpec, LocationStatus};
use super::read::Validators;
use super::relations::Relation;
use crate::db::{Database, StoreError};
use counts::CountCache;
use dialect::CatalogSql;

/// An entity as produced by processing a location, ready to be stored.
#[derive(Debug, Clone)]
pub struct ProcessedEntity {
    /// The entity's ref, lower-case.
    pub entity_ref: String,
    /// The entity JSON (validated; without uid, etag, relations).
    pub processed: String,
    /// Hash of `processed`, to skip unchanged writes.
    pub hash: String,
    /// The relations the entity declares (both directions), from the spec fields Backstage reads.
    pub relations: Vec<Relation>,
}

/// What storing a location's entities did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplaceOutcome {
    /// Entities new to the location.
    pub inserted: usize,
    /// Entities whose processed form changed.
    pub updated: usize,
    /// Entities the location no longer lists.
    pub removed: usize,
    /// `(entity ref, target of the location that already owns it)`.
    pub conflicts: Vec<(String, String)>,
}

/// How rows are ordered when no order is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultOrder {
    /// By uid (streams, by-query pages).
    Uid,
    /// By entity ref (`GET /entities` pages).
    EntityRef,
}

/// A read of entity rows as the store runs it: filter, order, keyset or offset page. The service
/// makes it from an `EntityQuery` or an `EntityList` (`catalog::entities`).
#[derive(Debug, Clone)]
pub struct RowQuery {
    /// Which entities.
    pub filter: Filter,
    /// Search keys (lower-case) and whether descending; entities lacking a key sort last.
    pub order: Vec<(String, bool)>,
    /// Drop entities without the first order key.
    pub require_order_value: bool,
    /// The order when `order` is empty.
    pub default_order: DefaultOrder,
    /// Keyset: rows after `(sort value of the first order key, uid)`.
    pub after: Option<(Option<String>, String)>,
    /// Walk the order backwards: rows before `after`, nearest first (a previous page).
    pub backwards: bool,
    /// `(lower-case term, lower-case keys)`: some row of those keys contains the term.
    pub full_text: Option<(String, Vec<String>)>,
    /// Rows to skip.
    pub offset: u64,
    /// At most this many rows.
    pub limit: Option<u64>,
    /// The filter is known to match many entities (a whole page already): with no order key,
    /// walk the uid or ref index and test each entity against the filter, instead of looking up
    /// every match and sorting them all again for each page.
    pub many_matches: bool,
}

impl RowQuery {
    /// Every entity matching `filter`, by entity ref.
    pub fn new(filter: Filter) -> RowQuery {
        RowQuery {
            filter,
            order: Vec::new(),
            require_order_value: false,
            default_order: DefaultOrder::EntityRef,
            after: None,
            backwards: false,
            full_text: None,
            offset: 0,
            limit: None,
            many_matches: false,
        }
    }
}

/// One entity row of a query: its uid, served JSON and the value of the first order key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntityRow {
    /// The entity's uid.
    pub uid: String,
    /// Its served JSON.
    pub body: String,
    /// The value of the first order key (`None` without one, or when it lacks the key).
    pub sort_value: Option<String>,
}

/// A location to register.
#[derive(Debug, Clone)]
pub struct NewLocation {
    /// The new location's id.
    pub id: String,
    /// Its type and target.
    pub spec: LocationSpec,
    /// Now (epoch ms): its registration time and first refresh.
    pub now: i64,
}

/// The result of reading a location, stored on its row.
#[derive(Debug, Clone)]
pub struct LocationResult {
    /// The location's status after this processing.
    pub status: LocationStatus,
    /// Problems of this processing.
    pub errors: Vec<String>,
    /// `<type>:<target>` of every file read -> its validators. `None` keeps the stored ones.
    pub validators: Option<Validators>,
    /// When this processing began (epoch ms).
    pub refreshed_at: i64,
    /// When the location is next due (epoch ms).
    pub next_refresh_at: i64,
}

/// Registered locations and the state of their processing.
#[async_trait]
pub trait Locations: Send + Sync {
    /// Registers `location` as processing; `false` if its type and target are registered already.
    async fn create_location(&self, location: &NewLocation) -> Result<bool, StoreError>;
    /// Points location `id` at `spec` and marks it processing (its file validators forgotten);
    /// `None` if there is no such location, `Some(false)` if another has that type and target.
    async fn update_location(
        &self,
        id: &str,
        spec: &LocationSpec,
        now: i64,
    ) -> Result<Option<bool>, StoreError>;
    /// The location with this id.
    async fn location(&self, id: &str) -> Result<Option<Location>, StoreError>;
    /// The location with this type and target.
    async fn location_by_spec(&self, spec: &LocationSpec) -> Result<Option<Location>, StoreError>;
    /// Every location, oldest first.
    async fn locations(&self) -> Result<Vec<Location>, StoreError>;
    /// The validators of every file of the location's last complete read.
    async fn location_validators(&self, id: &str) -> Result<Validators, StoreError>;
    /// Locations whose next refresh is due at `now`. A location still `processing` counts only
    /// while no live lease (`catalog:location:<id>`, see `refresh::processing_lease`) says a
    /// replica is processing it: one that was cut short (a crash, a stop in the middle) is taken
    /// again at once.
    async fn due_locations(&self, now: i64, limit: i64) -> Result<Vec<Location>, StoreError>;
    /// Makes the location due now (`POST /refresh`).
    async fn schedule_location(&self, id: &str, now: i64) -> Result<(), StoreError>;
    /// Makes the location due now and forgets its file validators, so that its next processing
    /// reads and stores every file even if none changed (an entity deleted by uid comes back).
    async fn reprocess_location(&self, id: &str, now: i64) -> Result<(), StoreError>;
    /// Stores the result of a processing of location `id`.
    async fn finish_location(&self, id: &str, result: &LocationResult) -> Result<(), StoreError>;
    /// The id of the location that owns the entity `entity_ref`.
    async fn owner_location(&self, entity_ref: &str) -> Result<Option<String>, StoreError>;
}

/// Storing what locations produce, and deleting.
#[async_trait]
pub trait EntityWrites: Send + Sync {
    /// Makes `entities` the complete set the location produced: new ones inserted, changed ones
    /// updated, missing ones removed; an entity owned by another location is left alone and
    /// reported as a conflict. Entities whose relations changed are re-served.
    async fn replace_entities(
        &self,
        location_id: &str,
        entities: Vec<ProcessedEntity>,
    ) -> Result<ReplaceOutcome, StoreError>;
    /// Deletes one entity (it comes back on its location's next refresh if still listed).
    async fn delete_entity(&self, uid: &str) -> Result<(), StoreError>;
    /// Deletes the location and every entity it produced; `false` if unknown.
    async fn delete_location(&self, id: &str) -> Result<bool, StoreError>;
}

/// Reading entities.
#[async_trait]
pub trait EntityReads: Send + Sync {
    /// The rows of `query`.
    async fn query(&self, query: &RowQuery) -> Result<Vec<EntityRow>, StoreError>;
    /// How many entities `query` matches (its page ignored).
    async fn count(&self, query: &RowQuery) -> Result<i64, StoreError>;
    /// Whether at least `n` entities match `filter`: it stops counting at `n`.
    async fn matches_at_least(&self, filter: &Filter, n: u64) -> Result<bool, StoreError>;
    /// Served JSON of the entities with these (lower-case) refs, as `(ref, body)`.
    async fn by_refs(&self, refs: &[String]) -> Result<Vec<(String, String)>, StoreError>;
    /// Served JSON of the entity with this (lower-case) uid.
    async fn by_uid(&self, uid: &str) -> Result<Option<String>, StoreError>;
    /// Served JSON and `changed_at` (ms since the Unix epoch) of the `limit` entities whose
    /// served form changed last, latest first; Location entities left out.
    async fn recently_changed(&self, limit: u32) -> Result<Vec<(String, i64)>, StoreError>;
    /// `(original value, number of entities)` of `key` over the entities matching `filter`.
    async fn facet(&self, key: &str, filter: &Filter) -> Result<Vec<(String, i64)>, StoreError>;
    /// `(entity uid, key, original value)` of every search row of these (lower-case) keys.
    async fn values_of(&self, keys: &[&str]) -> Result<Vec<(String, String, String)>, StoreError>;
    /// A number that changes with every change to entities, when this process makes them all
    /// (SQLite); `None` when other processes may write too (PostgreSQL with replicas).
    fn version(&self) -> Option<u64>;
    /// One consistent view of the entities for a read made of several statements (a streamed
    /// list's pages): a read transaction (SQLite's WAL snapshot, PostgreSQL's `REPEATABLE READ`),
    /// so a replace committed meanwhile is seen whole or not at all.
    async fn snapshot(&self) -> Result<Box<dyn EntitySnapshot>, StoreError>;
}

/// Entity reads within one read transaction (see [`EntityReads::snapshot`]). Dropping it ends the
/// transaction.
#[async_trait]
pub trait EntitySnapshot: Send {
    /// The rows of `query`, as of the snapshot.
    async fn query(&mut self, query: &RowQuery) -> Result<Vec<EntityRow>, StoreError>;
    /// The catalog's stored version as of the snapshot. Every write transaction that changes
    /// entities moves it before it commits, on every replica: two snapshots of the same version
    /// see the same entities.
    async fn version(&mut self) -> Result<i64, StoreError>;
}

/// Every use case of the catalog's storage.
pub trait CatalogStore: Locations + EntityWrites + EntityReads {}

impl<T: Locations + EntityWrites + EntityReads> CatalogStore for T {}

/// [`CatalogStore`] on either backend (`SqlCatalogStore<Sqlite>`, `SqlCatalogStore<Postgres>`),
/// each tested by the contract suite.
pub struct SqlCatalogStore<DB: CatalogSql> {
    pool: Pool<DB>,
    /// Where writes go (on SQLite the database's one write connection; otherwise `pool`).
    writer: Pool<DB>,
    counts: CountCache,
}

impl<DB: CatalogSql> SqlCatalogStore<DB> {
    /// The store over `pool`, writing through `writer` (on SQLite the one write connection).
    pub fn new(pool: Pool<DB>, writer: Pool<DB>) -> Self {
        Self {
            pool,
            writer,
            counts: CountCache::new(DB::ONE_WRITER),
        }
    }
}

/// The catalog store on `db`.
pub fn open(db: &Database) -> Arc<dyn CatalogStore> {
    match db {
        Database::Sqlite { pool, writer } => {
            Arc::new(SqlCatalogStore::new(pool.clone(), writer.clone()))
        }
        Database::Postgres(pool) => Arc::new(SqlCatalogStore::new(pool.clone(), pool.clone())),
    }
}
