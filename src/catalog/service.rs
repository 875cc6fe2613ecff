//! The catalog's use cases: registering, processing, refreshing and deleting locations, and the
//! rules of entity reads shared by the routes.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use serde_json::Value;

use super::ingest::{Ingest, TreeResult};
use super::model::{Entity, EntityRef, Location, LocationSpec, LocationStatus, LocationType};
use super::read::{FileValidators, ReadError, ReadOutcome, Reader};
use super::store::{CatalogStore, LocationResult, NewLocation};
use crate::background::Background;
use crate::config::CatalogConfig;
use crate::db::StoreError;
use crate::db::lease::LeaseStore;

/// A catalog failure; `app::errors` gives each its HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The result of `POST /locations`.
pub struct Registration {
    pub location: Location,
    /// Dry runs: the entities the location would produce.
    pub entities: Vec<Entity>,
    /// Dry runs: whether the location is registered already.
    pub exists: bool,
}

/// The catalog service, shared by handlers and background tasks. Cheap to clone.
#[derive(Clone)]
pub struct Catalog {
    pub store: Arc<dyn CatalogStore>,
    ingest: Ingest,
    background: Background,
    leases: Arc<dyn LeaseStore>,
    refresh_interval: Duration,
    /// This replica's name as a lease holder.
    replica: String,
    /// Pages of streamed whole-catalog lists being read and written at once. A page of 1,000
    /// entities holds about 5 MB while it is read, copied and serialised; sixteen concurrent
    /// full lists all doing that at once added about 80 MB of peak memory, for no more
    /// throughput on two cores.
    pub stream_pages: Arc<tokio::sync::Semaphore>,
}

/// See [`Catalog::stream_pages`].
const STREAM_PAGES_AT_ONCE: usize = 4;

/// A location's root file as just read, with the type and target it was read from.
pub struct RootFile {
    spec: LocationSpec,
    bytes: Bytes,
    validators: FileValidators,
}

/// The 409 for a type and target that another location has.
fn already_registered(spec: &LocationSpec) -> CatalogError {
    CatalogError::Conflict(format!("Location {} already exists", spec.key()))
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Catalog {
    pub fn new(
        store: Arc<dyn CatalogStore>,
        leases: Arc<dyn LeaseStore>,
        config: &CatalogConfig,
        fetcher: crate::fetch::Fetcher,
        background: Background,
    ) -> Catalog {
        Catalog {
            store,
            ingest: Ingest::new(
                Reader::new(config.file_roots.clone(), fetcher),
                config.allowed_kinds.clone(),
            ),
            background,
            stream_pages: Arc::new(tokio::sync::Semaphore::new(STREAM_PAGES_AT_ONCE)),
            leases,
            refresh_interval: config.refresh_interval,
            replica: uuid::Uuid::new_v4().to_string(),
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

    /// Points a registered location at another type and target (`PUT /locations/{id}`): the new
    /// target is read and validated now, as at registration, and its entities replace the old
    /// ones in the background. The same type and target is no change.
    pub async fn update_location(
        &self,
        id: &str,
        kind: &str,
        target: &str,
    ) -> Result<Location, CatalogError> {
        let not_found = || CatalogError::NotFound(format!("Found no location with ID {id}"));
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
        let (_, errors) = self.ingest.file_entities(&bytes, spec, spec);
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
                () = catalog.process_location(&id, Some(root)) => {}
            }
        });
    }

    /// Reads the location's tree (from `root`, its root file just read, when given) and stores
    /// the result. Unchanged sources (every file answering "not modified") cost no writes besides
    /// the schedule.
    pub async fn process_location(&self, id: &str, root: Option<RootFile>) {
        if let Err(e) = self.try_process(id, root).await {
            tracing::warn!(location = id, error = %e, "processing a catalog location failed");
            // Record the failure so the location shows it and is retried on the next interval.
            let now = now_ms();
            let result = LocationResult {
                status: LocationStatus::Failed,
                errors: vec![format!(
                    "Processing failed ({e}); it is retried at the next refresh"
                )],
                validators: None,
                refreshed_at: now,
                next_refresh_at: now + jittered(self.refresh_interval),
            };
            let _ = self.store.finish_location(id, &result).await;
        }
    }

    async fn try_process(&self, id: &str, root: Option<RootFile>) -> Result<(), CatalogError> {
        let Some(location) = self.store.location(id).await? else {
            return Ok(());
        };
        // Moved to another target before this processing began (`PUT /locations/{id}`): the
        // root file read belongs to the old target, and the move processes the new one.
        if root.as_ref().is_some_and(|r| r.spec != location.spec) {
            return Ok(());
        }
        let root_body = root.map(|r| (r.bytes, r.validators));
        let now = now_ms();
        let next = now + jittered(self.refresh_interval);
        if root_body.is_none() && self.unchanged(&location).await? {
            let result = LocationResult {
                status: location.status,
                errors: location.errors,
                validators: None,
                refreshed_at: now,
                next_refresh_at: next,
            };
            self.store.finish_location(id, &result).await?;
            return Ok(());
        }
        let started = std::time::Instant::now();
        let tree: TreeResult = self.ingest.process(&location.spec, root_body).await;
        let read_ms = started.elapsed().as_millis() as u64;
        // Moved to another target meanwhile (`PUT /locations/{id}`): that move's own processing
        // stores the location's entities, not this one.
        let current = self.store.location(id).await?;
        if current.is_none_or(|l| l.spec != location.spec) {
            return Ok(());
        }
        let mut errors = tree.errors;
        let mut validators = None;
        if !tree.root_failed {
            let outcome = self.store.replace_entities(id, &tree.entities).await?;
            tracing::info!(
                location = id,
                entities = tree.entities.len(),
                inserted = outcome.inserted,
                updated = outcome.updated,
                removed = outcome.removed,
                read_ms,
                write_ms = started.elapsed().as_millis() as u64 - read_ms,
                "catalog location processed"
            );
            for (entity_ref, owner) in outcome.conflicts {
                errors.push(format!(
                    "{entity_ref} is already provided by the location {owner}; it stays with that location"
                ));
            }
            validators = Some(tree.validators);
        }
        let status = if tree.root_failed {
            LocationStatus::Failed
        } else {
            LocationStatus::Ready
        };
        self.store
            .finish_location(
                id,
                &LocationResult {
                    status,
                    errors,
                    validators,
                    refreshed_at: now,
                    next_refresh_at: next,
                },
            )
            .await?;
        Ok(())
    }

    /// True when every file of the last complete read answers "not modified".
    async fn unchanged(&self, location: &Location) -> Result<bool, CatalogError> {
        let validators = self.store.location_validators(&location.id).await?;
        if validators.is_empty() || !validators.contains_key(&location.spec.key()) {
            return Ok(false);
        }
        for (key, previous) in &validators {
            let Some((kind, target)) = key.split_once(':') else {
                return Ok(false);
            };
            let Some(kind) = LocationType::parse(kind) else {
                return Ok(false);
            };
            let spec = LocationSpec {
                kind,
                target: target.to_owned(),
            };
            match self.ingest.reader.read(&spec, Some(previous)).await {
                Ok(ReadOutcome::NotModified) => {}
                Ok(ReadOutcome::Body { .. }) | Err(_) => return Ok(false),
            }
        }
        Ok(true)
    }

    /// Processes every due location this replica can lease; returns how many it processed.
    pub async fn refresh_due(&self) -> Result<usize, CatalogError> {
        let due = self.store.due_locations(now_ms(), 20).await?;
        let mut done = 0;
        for location in due {
            done += usize::from(self.process_leased(&location.id).await?);
        }
        Ok(done)
    }

    /// Processes the location if it is due and no other replica is processing it (row lease);
    /// `false` if another replica holds it or has just processed it.
    pub async fn process_leased(&self, id: &str) -> Result<bool, CatalogError> {
        let lease = format!("catalog:location:{id}");
        let ttl = Duration::from_secs(120);
        if !self
            .leases
            .try_acquire(&lease, &self.replica, now_ms(), ttl)
            .await?
        {
            return Ok(false);
        }
        // Another replica may have processed it between our due check and the lease.
        let due = self
            .store
            .location(id)
            .await
            .map(|l| l.is_some_and(|l| l.next_refresh_at <= now_ms()));
        let processed = match due {
            Ok(true) => {
                self.process_location(id, None).await;
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(e) => Err(e.into()),
        };
        let _ = self.leases.release(&lease, &self.replica).await;
        processed
    }

    /// Runs [`Catalog::refresh_due`] every second until cancelled.
    pub fn start_refresh_loop(&self) {
        let catalog = self.clone();
        self.background.spawn(move |cancel| async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    _ = tick.tick() => {}
                }
                if let Err(e) = catalog.refresh_due().await {
                    tracing::warn!(error = %e, "catalog refresh failed");
                }
            }
        });
    }

    /// `POST /refresh`: the location of `entity_ref` is re-read now.
    pub async fn refresh_entity(&self, entity_ref: &str) -> Result<(), CatalogError> {
        let parsed = EntityRef::parse(entity_ref, None, "default")
            .map_err(|e| CatalogError::Invalid(format!("Invalid entityRef: {e}")))?;
        let Some(location_id) = self.store.owner_location(&parsed.to_string()).await? else {
            return Err(CatalogError::NotFound(format!(
                "Failed to schedule {entity_ref} for refresh"
            )));
        };
        self.store.schedule_location(&location_id, now_ms()).await?;
        let catalog = self.clone();
        self.background.spawn(move |cancel| async move {
            tokio::select! {
                () = cancel.cancelled() => {}
                result = catalog.process_leased(&location_id) => {
                    if let Err(e) = result {
                        tracing::warn!(location = %location_id, error = %e, "refreshing a catalog location failed");
                    }
                }
            }
        });
        Ok(())
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

/// `interval` plus up to 10% random jitter, in milliseconds.
fn jittered(interval: Duration) -> i64 {
    let base = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX / 2);
    let jitter = (uuid::Uuid::new_v4().as_u128() % 1000) as i64;
    base + base / 10 * jitter / 1000
}

impl From<ReadError> for CatalogError {
    fn from(e: ReadError) -> Self {
        CatalogError::Invalid(e.to_string())
    }
}
