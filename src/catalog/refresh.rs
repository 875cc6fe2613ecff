//! Processing and refreshing locations: each location's tree is read again when due (one
//! replica at a time, under a lease), unchanged files cost no writes, and the result (entities,
//! errors, file validators) is stored.

use std::time::Duration;

use super::ingest::TreeResult;
use super::model::{Location, LocationSpec, LocationStatus, LocationType};
use super::read::ReadOutcome;
use super::service::{Catalog, CatalogError, RootFile, now_ms};
use super::store::LocationResult;

/// How long a location's processing lease lasts without renewal: after a crash on another
/// host, its location is processed again this long after the crash at the latest.
const PROCESSING_LEASE: Duration = Duration::from_secs(60);
/// How often a processing under way renews its lease.
const LEASE_RENEWAL: Duration = Duration::from_secs(15);

/// The lease a location is processed under (the store's `due_locations` reads it too).
pub fn processing_lease(location_id: &str) -> String {
    format!("catalog:location:{location_id}")
}

impl Catalog {
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
        if let Some(reason) = tree.over_limit {
            tracing::warn!(location = id, %reason, "catalog location over its limits");
            let result = LocationResult {
                status: LocationStatus::Failed,
                errors: vec![reason],
                validators: None,
                refreshed_at: now,
                next_refresh_at: next,
            };
            self.store.finish_location(id, &result).await?;
            return Ok(());
        }
        let mut errors = tree.errors;
        let mut validators = None;
        if !tree.root_failed {
            let entities = if self.keep_orphans {
                self.with_orphans(&location, tree.entities).await?
            } else {
                tree.entities
            };
            let count = entities.len();
            let outcome = self.store.replace_entities(id, entities).await?;
            tracing::info!(
                location = id,
                entities = count,
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
        let lease = processing_lease(id);
        if !self
            .leases
            .try_acquire(&lease, &self.replica, now_ms(), PROCESSING_LEASE)
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
        if let Ok(true) = due {
            self.holding(id, self.process_location(id, None)).await;
            return Ok(true);
        }
        let _ = self.leases.release(&lease, &self.replica).await;
        Ok(due?)
    }

    /// Processes location `id` holding its lease (renewed while it runs), unless another replica
    /// holds it; returns whether it processed it.
    pub(super) async fn process_under_lease(
        &self,
        id: &str,
        root: Option<RootFile>,
    ) -> Result<bool, CatalogError> {
        let lease = processing_lease(id);
        if !self
            .leases
            .try_acquire(&lease, &self.replica, now_ms(), PROCESSING_LEASE)
            .await?
        {
            return Ok(false);
        }
        self.holding(id, self.process_location(id, root)).await;
        Ok(true)
    }

    /// Runs `work` while holding location `id`'s lease, acquired by the caller: renewed every
    /// [`LEASE_RENEWAL`] (beside `work`, never blocking it), released at the end.
    async fn holding(&self, id: &str, work: impl std::future::Future<Output = ()>) {
        let lease = processing_lease(id);
        let renewals = async {
            let mut tick = tokio::time::interval(LEASE_RENEWAL);
            tick.tick().await;
            loop {
                tick.tick().await;
                let renewed = self
                    .leases
                    .try_acquire(&lease, &self.replica, now_ms(), PROCESSING_LEASE)
                    .await;
                if !matches!(renewed, Ok(true)) {
                    tracing::warn!(
                        location = id,
                        "could not renew a catalog location's processing lease"
                    );
                }
            }
        };
        tokio::select! {
            () = work => {}
            () = renewals => {}
        }
        let _ = self.leases.release(&lease, &self.replica).await;
    }

    /// Gives up the leases an earlier run of this server held when it stopped (a crash, a kill):
    /// their locations, left `processing`, are processed again on the first tick.
    pub async fn release_earlier_runs(&self) -> Result<u64, CatalogError> {
        let run = self
            .replica
            .rsplit_once('/')
            .map_or(self.replica.as_str(), |(_, run)| run);
        Ok(self
            .leases
            .release_earlier_runs(&self.instance, run)
            .await?)
    }

    /// Runs [`Catalog::refresh_due`] every second until cancelled, the first time at once, after
    /// giving up the leases of this server's earlier run.
    pub fn start_refresh_loop(&self) {
        let catalog = self.clone();
        self.background.spawn(move |cancel| async move {
            match catalog.release_earlier_runs().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(leases = n, "released the catalog leases a previous run of this server held when it stopped"),
                Err(e) => tracing::warn!(error = %e, "cannot release the leases of this server's previous run"),
            }
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

    /// `POST /refresh`: the location of `entity_ref` is re-read now. As in Backstage the ref is
    /// matched as given (lower-cased), without defaults: an incomplete or unknown ref is a 404.
    pub async fn refresh_entity(&self, entity_ref: &str) -> Result<(), CatalogError> {
        let entity_ref = entity_ref.to_lowercase();
        let not_found = || CatalogError::NotFound(format!("Entity {entity_ref} not found"));
        let Some(location_id) = self.store.owner_location(&entity_ref).await? else {
            return Err(not_found());
        };
        // No location lists an orphan any more: Backstage has nothing to refresh it from.
        if self.keep_orphans && self.is_orphan(&entity_ref).await? {
            return Err(not_found());
        }
        self.store.schedule_location(&location_id, now_ms()).await?;
        self.process_soon(&location_id);
        Ok(())
    }

    /// Processes location `id` now, every file read and stored again even if unchanged (an
    /// entity deleted by uid that the location still lists comes back, with a new uid).
    pub(super) async fn reprocess(&self, id: &str) -> Result<(), CatalogError> {
        self.store.reprocess_location(id, now_ms()).await?;
        self.process_soon(id);
        Ok(())
    }

    /// Processes due location `id` in a background task, unless another replica holds it.
    fn process_soon(&self, id: &str) {
        let catalog = self.clone();
        let location_id = id.to_owned();
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
    }
}

/// `interval` plus up to 10% random jitter, in milliseconds.
fn jittered(interval: Duration) -> i64 {
    let base = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX / 2);
    let jitter = (uuid::Uuid::new_v4().as_u128() % 1000) as i64;
    base + base / 10 * jitter / 1000
}
