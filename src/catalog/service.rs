//! The catalog service: registering, moving, listing and deleting locations. Its other use cases
//! are in [`refresh`](super::refresh) (processing locations when due) and
//! [`entities`](super::entities) (entity reads and their rules).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use serde_json::Value;

use super::ingest::Ingest;
use super::model::{Entity, EntityRef, Location, LocationSpec, LocationStatus, LocationType};
use super::read::{FileValidators, ReadError, ReadOutcome, Reader};
use super::store::{CatalogStore, NewLocation};
use crate::background::Background;
use crate::config::CatalogConfig;
use crate::db::StoreError;
use crate::db::lease::LeaseStore;

/// A catalog failure; `app::errors` gives each its HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The request is invalid; the message says why (400).
    #[error("{0}")]
    Invalid(String),
    /// No such location or entity (404).
    #[error("{0}")]
    NotFound(String),
    /// The type and target are another location's (409).
    #[error("{0}")]
    Conflict(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The result of `POST /locations`.
pub struct Registration {
    /// The location as registered (for a dry run, as it would be).
    pub location: Location,
    /// Dry runs: the entities the location would produce.
    pub entities: Vec<Entity>,
    /// Dry runs: whether the location is registered already.
    pub exists: bool,
}

/// The catalog service, shared by handlers and background tasks. Cheap to clone.
#[derive(Clone)]
pub struct Catalog {
    pub(super) store: Arc<dyn CatalogStore>,
    pub(super) ingest: Ingest,
    pub(super) background: Background,
    pub(super) leases: Arc<dyn LeaseStore>,
    pub(super) refresh_interval: Duration,
    /// `[catalog] orphan_strategy = "keep"`.
    pub(super) keep_orphans: bool,
    /// This server's lasting name (see [`crate::db::lease::instance_id`]).
    pub(super) instance: String,
    /// This run's name as a lease holder: `<instance>/<run>`.
    pub(super) replica: String,
    /// Pages of streamed whole-catalog lists being read and written at once. A page of 1,000
    /// entities holds about 5 MB while it is read, copied and serialised; sixteen concurrent
    /// full lists all doing that at once added about 80 MB of peak memory, for no more
    /// throughput on two cores.
    pub(super) stream_pages: Arc<tokio::sync::Semaphore>,
    /// Whole answers of repeated reads, until the catalog changes.
    pub(super) answers: Arc<super::answers::Answers>,
}

/// See [`Catalog::stream_pages`].
const STREAM_PAGES_AT_ONCE: usize = 4;

/// A location's root file as just read, with the type and target it was read from.
pub struct RootFile {
    pub(super) spec: LocationSpec,
    pub(super) bytes: Bytes,
    pub(super) validators: FileValidators,
}

/// The 404 for an unknown location id.
fn location_not_found(id: &str) -> CatalogError {
    CatalogError::NotFound(format!("Found no location with ID {id}"))
}

/// The 409 for a type and target that another location has.
fn already_registered(spec: &LocationSpec) -> CatalogError {
    CatalogError::Conflict(format!("Location {} already exists", spec.key()))
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Catalog {
    /// The catalog over `store`, reading locations as `config` allows through `fetcher`, with
    /// processing in `background` and refreshes under `leases`; `instance` is this server's
    /// lasting name (its leases are held as `<instance>/<run>`).
    pub fn new(
        store: Arc<dyn CatalogStore>,
        leases: Arc<dyn LeaseStore>,
        config: &CatalogConfig,
        fetcher: crate::fetch::Fetcher,
        background: Background,
        instance: &str,
    ) -> Catalog {
        Catalog {
            store,
            ingest: Ingest::new(
                Reader::new(config.file_roots.clone(), fetcher),
                config.allowed_kinds.clone(),
                config.limits,
            ),
            background,
            stream_pages: Arc::new(tokio::sync::Semaphore::new(STREAM_PAGES_AT_ONCE)),
            answers: Arc::new(super::answers::Answers::new(config.kept_answers_bytes)),
            leases,
            refresh_interval: config.refresh_interval,
            keep_orphans: config.keep_orphans,
            instance: instance.to_owned(),
            replica: format!("{instance}/{}", uuid::Uuid::new_v4()),
        }
    }

    /// Reads and validates the target now; any problem is an error naming the document and field.
    /// Then registers it and processes the tree (nested locations) in the background.
    pub async fn register(
        &self,
        kind: &str,
        target: &str,
        dry_run: bool,
    ) -> Result<Registration, CatalogError> {
        let spec = self.checked_spec(kind, target)?;
        let existing = self.store.location_by_spec(&spec).await?;
        if existing.is_some() && !dry_run {
            return Err(already_registered(&spec));
        }
        let (bytes, validators) = self.read_root(&spec).await?;
        let now = now_ms();
        if dry_run {
            let tree = self.ingest.process(&spec, Some((bytes, validators))).await;
            if let Some(reason) = tree.over_limit {
                return Err(CatalogError::Invalid(format!(
                    "Location {}: {reason}",
                    spec.key()
                )));
            }
            if !tree.errors.is_empty() {
                return Err(CatalogError::Invalid(tree.errors.join("; ")));
            }
            return Ok(Registration {
                location: Location {
                    id: spec.key(),
                    spec,
                    status: LocationStatus::Ready,
                    errors: Vec::new(),
                    last_refreshed_at: None,
                    next_refresh_at: now,
                    created_at: now,
                },
                entities: tree
                    .entities
                    .iter()
                    .filter_map(|e| serde_json::from_str(&e.processed).ok())
                    .collect(),
                exists: existing.is_some(),
            });
        }
        let id = uuid::Uuid::new_v4().to_string();
        let created = self
            .store
            .create_location(&NewLocation {
                id: id.clone(),
                spec: spec.clone(),
                now,
            })
            .await?;
        if !created {
            return Err(already_registered(&spec));
        }
        // The answer is the location as registered (`processing`), however soon its processing
        // ends; nothing is awaited between storing it and starting that processing, so no
        // failure or dropped request can leave it `processing` with nothing processing it.
        let location = Location {
            id: id.clone(),
            spec: spec.clone(),
            status: LocationStatus::Processing,
            errors: Vec::new(),
            last_refreshed_at: None,
            next_refresh_at: now,
            created_at: now,
        };
        self.process_in_background(&id, spec, bytes, validators);
        Ok(Registration {
            location,
            entities: Vec::new(),
            exists: false,
        })
    }

    /// `POST /locations?onConflict=refresh` for a type and target registered already: that
    /// location, processed again now (every file read and stored again, so a deleted generated
    /// Location entity comes back). `None` when it is not registered.
    pub async fn refresh_registered(
        &self,
        kind: &str,
        target: &str,
    ) -> Result<Option<Location>, CatalogError> {
        let spec = self.checked_spec(kind, target)?;
        let Some(location) = self.store.location_by_spec(&spec).await? else {
            return Ok(None);
        };
        self.reprocess(&location.id).await?;
        Ok(Some(location))
    }

    /// Points a registered location at another type and target (`PUT /locations/{id}`): the new
    /// target is read and validated now, as at registration, and its entities replace the old
    /// ones in the background. The same type and target is no change.
    pub async fn update_location(
        &self,
        id: &str,
        kind: &str,
        target: &str,
    ) -> Result<Location, CatalogError> {
        let not_found = || location_not_found(id);
        let current = self.store.location(id).await?.ok_or_else(not_found)?;
        let spec = self.checked_spec(kind, target)?;
        if spec == current.spec {
            return Ok(current);
        }
        if self.store.location_by_spec(&spec).await?.is_some() {
            return Err(already_registered(&spec));
        }
        let (bytes, validators) = self.read_root(&spec).await?;
        let now = now_ms();
        match self.store.update_location(id, &spec, now).await? {
            None => return Err(not_found()),
            Some(false) => return Err(already_registered(&spec)),
            Some(true) => {}
        }
        // As stored, and processed without awaiting anything first (see `register`).
        let location = Location {
            spec: spec.clone(),
            status: LocationStatus::Processing,
            errors: Vec::new(),
            next_refresh_at: now,
            ..current
        };
        self.process_in_background(id, spec, bytes, validators);
        Ok(location)
    }

    /// The normalised spec of a location to register, or why it cannot be one.
    fn checked_spec(&self, kind: &str, target: &str) -> Result<LocationSpec, CatalogError> {
        let Some(kind) = LocationType::parse(kind) else {
            return Err(CatalogError::Invalid(format!(
                "Invalid location type '{kind}': use \"url\" or \"file\""
            )));
        };
        if target.trim().is_empty() {
            return Err(CatalogError::Invalid("Missing location target".into()));
        }
        self.ingest
            .normalise(LocationSpec {
                kind,
                target: target.to_owned(),
            })
            .map_err(|e| CatalogError::Invalid(e.to_string()))
    }

    /// Reads a location's own file and validates every entity in it: any problem is the caller's.
    async fn read_root(
        &self,
        spec: &LocationSpec,
    ) -> Result<(Bytes, FileValidators), CatalogError> {
        let (bytes, validators) = match self.ingest.reader.read(spec, None).await {
            Ok(ReadOutcome::Body { bytes, validators }) => (bytes, validators),
            Ok(ReadOutcome::NotModified) => (Bytes::new(), FileValidators::default()),
            Err(e) => return Err(CatalogError::Invalid(e.to_string())),
        };
        let (_, errors) = self.ingest.entities_of(&bytes, spec, spec).await;
        if !errors.is_empty() {
            return Err(CatalogError::Invalid(errors.join("; ")));
        }
        Ok((bytes, validators))
    }

    /// Processes location `id` in a background task, from its root file just read from `spec`.
    fn process_in_background(
        &self,
        id: &str,
        spec: LocationSpec,
        bytes: Bytes,
        validators: FileValidators,
    ) {
        let catalog = self.clone();
        let id = id.to_owned();
        let root = RootFile {
            spec,
            bytes,
            validators,
        };
        self.background.spawn(move |cancel| async move {
            tokio::select! {
                () = cancel.cancelled() => {}
                result = catalog.process_under_lease(&id, Some(root)) => {
                    if let Err(e) = result {
                        // The location stays `processing` with no lease: the refresh loop
                        // processes it on its next tick.
                        tracing::warn!(location = %id, error = %e, "processing a new catalog location failed");
                    }
                }
            }
        });
    }

    /// Every registered location, oldest first.
    pub async fn locations(&self) -> Result<Vec<Location>, CatalogError> {
        Ok(self.store.locations().await?)
    }

    /// One location with its processing state.
    pub async fn location(&self, id: &str) -> Result<Location, CatalogError> {
        self.store
            .location(id)
            .await?
            .ok_or_else(|| location_not_found(id))
    }

    /// Deletes a location and every entity it produced.
    pub async fn delete_location(&self, id: &str) -> Result<(), CatalogError> {
        if !self.store.delete_location(id).await? {
            return Err(location_not_found(id));
        }
        Ok(())
    }

    /// The location the entity `kind:namespace/name` came from.
    pub async fn location_of_entity(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Location, CatalogError> {
        let entity_ref = EntityRef::new(kind, namespace, name).to_string();
        let Some(id) = self.store.owner_location(&entity_ref).await? else {
            return Err(CatalogError::NotFound(format!(
                "found no entity for ref {entity_ref}"
            )));
        };
        self.location(&id).await
    }

    /// A number that changes with every change to entities, when this process makes them all
    /// (SQLite); `None` when other processes may write too (PostgreSQL with replicas).
    pub fn version(&self) -> Option<u64> {
        self.store.version()
    }

    /// `(entity uid, key, original value)` of every value of these (lower-case) search keys.
    pub async fn values_of(
        &self,
        keys: &[&str],
    ) -> Result<Vec<(String, String, String)>, CatalogError> {
        Ok(self.store.values_of(keys).await?)
    }

    /// Validates one entity as if read from `location` (`url:<target>`).
    pub fn validate_entity(&self, entity: Value, location: &str) -> Result<(), Vec<String>> {
        let Some(target) = location.strip_prefix("url:") else {
            return Err(vec![format!(
                "Invalid location ref '{location}', only 'url:<target>' is supported"
            )]);
        };
        let spec = LocationSpec {
            kind: LocationType::Url,
            target: target.to_owned(),
        };
        let yaml = serde_json::to_vec(&entity).unwrap_or_default();
        let (_, errors) = self.ingest.file_entities(&yaml, &spec, &spec);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

impl From<ReadError> for CatalogError {
    fn from(e: ReadError) -> Self {
        CatalogError::Invalid(e.to_string())
    }
}
