//! [`EntityWrites`] on either backend: a location's entities replaced as a whole, deletes, and the
//! re-serving of entities whose relations changed, each in one write transaction.

use std::collections::{BTreeSet, HashMap, HashSet};

use async_trait::async_trait;

use super::dialect::CatalogSql;
use super::rows::{
    CHUNK, Changed, Incoming, chunks, in_list, now_ms, prepare_changed, push_values,
    search_inserts, sized,
};
use super::{EntityWrites, ProcessedEntity, ReplaceOutcome, SqlCatalogStore};
use crate::catalog::relations::Relation;
use crate::catalog::stitch::{Stitched, stitch};
use crate::db::StoreError;
use crate::db::sql::{Columns, SqlBuilder, Statement};

/// `(type, target)` of the relation rows whose source is one of `refs`, by source.
async fn kept_relations<DB: CatalogSql>(
    tx: &mut DB::Connection,
    refs: &[&str],
) -> Result<HashMap<String, Vec<(String, String)>>, sqlx::Error> {
    let mut by_source: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for chunk in refs.chunks(CHUNK) {
        let rows = in_list(
            "SELECT source_ref, type, target_ref FROM catalog_relations WHERE source_ref IN",
            chunk.iter().copied(),
        )
        .fetch_all::<DB>(tx)
        .await?;
        for row in &rows {
            by_source
                .entry(row.text(0)?)
                .or_default()
                .push((row.text(1)?, row.text(2)?));
        }
    }
    Ok(by_source)
}

/// Every ref that relation rows originated by entities `ids` point from.
async fn relation_sources<DB: CatalogSql>(
    tx: &mut DB::Connection,
    ids: &[i64],
) -> Result<Vec<String>, sqlx::Error> {
    let mut sources = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let rows = in_list(
            "SELECT DISTINCT source_ref FROM catalog_relations WHERE originator_id IN",
            chunk.iter().copied(),
        )
        .fetch_all::<DB>(tx)
        .await?;
        for row in &rows {
            sources.push(row.text(0)?);
        }
    }
    Ok(sources)
}

/// Runs `<head> (ids)` in chunks (deletes by entity id).
async fn for_ids<DB: CatalogSql>(
    tx: &mut DB::Connection,
    head: &str,
    ids: &[i64],
) -> Result<(), sqlx::Error> {
    for chunk in ids.chunks(CHUNK) {
        in_list(head, chunk.iter().copied())
            .execute::<DB>(tx)
            .await?;
    }
    Ok(())
}

/// Moves the catalog's stored version (see [`EntitySnapshot::version`]); called last before the
/// commit of every write transaction that changed entities, so on PostgreSQL the row is locked
/// only while that transaction commits.
///
/// [`EntitySnapshot::version`]: super::EntitySnapshot::version
async fn bump_version<DB: CatalogSql>(tx: &mut DB::Connection) -> Result<(), sqlx::Error> {
    Statement::new("UPDATE catalog_version SET version = version + 1 WHERE id = 1")
        .execute::<DB>(tx)
        .await?;
    Ok(())
}

/// Re-serves the entities with these refs from their processed form and every relation row whose
/// source they are, in chunks: an entity whose served form did not change (same etag) is left as
/// it is.
async fn restitch<DB: CatalogSql>(
    tx: &mut DB::Connection,
    refs: &BTreeSet<String>,
) -> Result<(), sqlx::Error> {
    let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
    for chunk in refs.chunks(CHUNK) {
        let entities = in_list(
            "SELECT e.id, e.uid, e.entity_ref, p.processed, e.etag FROM catalog_entities e \
             JOIN catalog_processed p ON p.entity_id = e.id WHERE e.entity_ref IN",
            chunk.iter().copied(),
        )
        .fetch_all::<DB>(tx)
        .await?;
        let mut by_source = kept_relations::<DB>(tx, chunk).await?;
        let mut served: Vec<(i64, Stitched)> = Vec::new();
        for row in &entities {
            let relations = by_source.remove(&row.text(2)?).unwrap_or_default();
            let stitched = stitch(&row.text(3)?, &row.text(1)?, relations);
            if stitched.etag != row.text(4)? {
                served.push((row.int(0)?, stitched));
            }
        }
        if served.is_empty() {
            continue;
        }
        let now = now_ms();
        let mut update = SqlBuilder::new(
            "UPDATE catalog_entities SET body = v.column2, etag = v.column3, changed_at = v.column4 \
             FROM (",
        );
        push_values(&mut update, &served, |(id, s)| {
            [(*id).into(), (&s.body).into(), (&s.etag).into(), now.into()]
        });
        update.push(") AS v WHERE catalog_entities.id = v.column1");
        sized(update.finish(), served.len(), CHUNK)
            .execute::<DB>(tx)
            .await?;
        let ids: Vec<i64> = served.iter().map(|(id, _)| *id).collect();
        in_list("DELETE FROM catalog_search WHERE entity_id IN", ids)
            .execute::<DB>(tx)
            .await?;
        let rows = served
            .into_iter()
            .flat_map(|(id, s)| s.rows.into_iter().map(move |row| (id, row)));
        for insert in search_inserts::<DB>(rows) {
            insert.execute::<DB>(tx).await?;
        }
    }
    Ok(())
}

#[async_trait]
impl<DB: CatalogSql> EntityWrites for SqlCatalogStore<DB> {
    async fn replace_entities(
        &self,
        location_id: &str,
        entities: Vec<ProcessedEntity>,
    ) -> Result<ReplaceOutcome, StoreError> {
        let mut tx = self.writer.begin_with(DB::BEGIN).await?;
        let mut outcome = ReplaceOutcome::default();
        let stored = Statement::new(
            "SELECT entity_ref, id, uid, processed_hash, etag FROM catalog_entities WHERE location_id = $1",
        )
        .bind(location_id)
        .fetch_all::<DB>(&mut tx)
        .await?;
        let mut existing: HashMap<String, (i64, String, String, String)> =
            HashMap::with_capacity(stored.len());
        for row in &stored {
            existing.insert(
                row.text(0)?,
                (row.int(1)?, row.text(2)?, row.text(3)?, row.text(4)?),
            );
        }
        drop(stored);
        // New to this location, but another location owns them: left alone. Read before the
        // entities are taken apart, so they are sorted out in one pass below, with no copies of
        // the location's entities on the way (50,000 of them are 5 MB per list).
        let is_new = |e: &&ProcessedEntity| !existing.contains_key(&e.entity_ref);
        let new_refs: Vec<&str> = entities
            .iter()
            .filter(is_new)
            .map(|e| e.entity_ref.as_str())
            .collect();
        let mut owners: HashMap<String, String> = HashMap::new();
        for chunk in new_refs.chunks(CHUNK) {
            let found = in_list(
                "SELECT e.entity_ref, l.target FROM catalog_entities e \
                 JOIN catalog_locations l ON l.id = e.location_id WHERE e.entity_ref IN",
                chunk.iter().copied(),
            )
            .fetch_all::<DB>(&mut tx)
            .await?;
            for row in &found {
                owners.insert(row.text(0)?, row.text(1)?);
            }
        }
        let unowned = new_refs.len() - owners.len();
        let mut ids = if unowned == 0 {
            Vec::new()
        } else {
            let rows = Statement::new(DB::NEW_IDS)
                .bind(unowned as i64)
                .fetch_all::<DB>(&mut tx)
                .await?;
            rows.iter().map(|r| r.int(0)).collect::<Result<_, _>>()?
        }
        .into_iter();
        let changes = entities
            .iter()
            .filter(|e| {
                existing
                    .get(&e.entity_ref)
                    .is_none_or(|(_, _, hash, _)| *hash != e.hash)
            })
            .count();
        // Entities that did not change are freed here, the others as soon as they are stored.
        let mut changed: Vec<Changed> = Vec::with_capacity(changes);
        let mut updated_ids: Vec<i64> = Vec::new();
        for entity in entities {
            match existing.remove(&entity.entity_ref) {
                Some((_, _, hash, _)) if hash == entity.hash => {}
                Some((id, uid, _, etag)) => {
                    updated_ids.push(id);
                    changed.push(Changed {
                        id,
                        stored: Some(Box::new((uid, etag))),
                        entity,
                    });
                }
                None => match owners.remove(&entity.entity_ref) {
                    Some(owner) => outcome.conflicts.push((entity.entity_ref, owner)),
                    None => {
                        let id = ids.next().ok_or(sqlx::Error::RowNotFound)?;
                        changed.push(Changed {
                            id,
                            stored: None,
                            entity,
                        });
                    }
                },
            }
        }
        outcome.updated = updated_ids.len();
        outcome.inserted = changed.len() - outcome.updated;
        outcome.removed = existing.len();
        // Entities outside the changed ones that gain, lose or change relations are re-served at
        // the end.
        let mut affected = BTreeSet::new();
        let removed: Vec<i64> = existing.values().map(|(id, ..)| *id).collect();
        affected.extend(relation_sources::<DB>(&mut tx, &removed).await?);
        for_ids::<DB>(
            &mut tx,
            "DELETE FROM catalog_entities WHERE id IN",
            &removed,
        )
        .await?;
        affected.extend(relation_sources::<DB>(&mut tx, &updated_ids).await?);
        for_ids::<DB>(
            &mut tx,
            "DELETE FROM catalog_relations WHERE originator_id IN",
            &updated_ids,
        )
        .await?;
        // Every changed entity is stored in its served form at once: its relations are the rows
        // other entities keep plus the rows the changed entities bring.
        let changed_refs: Vec<&str> = changed
            .iter()
            .map(|c| c.entity.entity_ref.as_str())
            .collect();
        // The relations a changed entity brings for another entity (`ownerOf` from a component's
        // owner), by source; those from the entity itself are taken from it when it is stored.
        let mut brought: Vec<Relation> =
            Vec::with_capacity(changed.iter().map(|c| c.for_others().count()).sum());
        brought.extend(changed.iter().flat_map(Changed::for_others).cloned());
        brought.sort_unstable_by(|a, b| a.source.cmp(&b.source));
        let changed_set: HashSet<&str> = changed_refs.iter().copied().collect();
        let mut last = None;
        for source in brought.iter().map(|r| &*r.source) {
            if last != Some(source) && !changed_set.contains(source) {
                affected.insert(source.to_owned());
            }
            last = Some(source);
        }
        affected.retain(|r| !changed_set.contains(r.as_str()));
        let kept = kept_relations::<DB>(&mut tx, &changed_refs).await?;
        let mut incoming = Incoming { kept, brought };
        let mut chunks = chunks(changed);
        let mut next = chunks
            .next()
            .map(|c| prepare_changed::<DB>(location_id, c, &mut incoming));
        while let Some(prepared) = next.take() {
            let statements = prepared.await.map_err(|e| {
                tracing::error!(error = %e, "preparing catalog rows failed");
                sqlx::Error::WorkerCrashed
            })?;
            next = chunks
                .next()
                .map(|c| prepare_changed::<DB>(location_id, c, &mut incoming));
            for statement in statements {
                statement.execute(&mut tx).await?;
            }
        }
        restitch::<DB>(&mut tx, &affected).await?;
        // A pass that changed nothing (every file as before) leaves the version, and so the
        // answers kept and the streams being read, alone.
        let any = outcome.inserted + outcome.updated + outcome.removed > 0;
        if any {
            bump_version::<DB>(&mut tx).await?;
        }
        tx.commit().await?;
        if any {
            self.counts.invalidate();
        }
        Ok(outcome)
    }

    async fn delete_entity(&self, uid: &str) -> Result<(), StoreError> {
        let mut tx = self.writer.begin_with(DB::BEGIN).await?;
        let row = Statement::new("SELECT id FROM catalog_entities WHERE uid = $1")
            .bind(uid)
            .fetch_optional::<DB>(&mut tx)
            .await?;
        let Some(id) = row.map(|r| r.int(0)).transpose()? else {
            return Ok(());
        };
        let peers = relation_sources::<DB>(&mut tx, &[id]).await?;
        Statement::new("DELETE FROM catalog_entities WHERE id = $1")
            .bind(id)
            .execute::<DB>(&mut tx)
            .await?;
        restitch::<DB>(&mut tx, &peers.into_iter().collect()).await?;
        bump_version::<DB>(&mut tx).await?;
        tx.commit().await?;
        self.counts.invalidate();
        Ok(())
    }

    async fn delete_location(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin_with(DB::BEGIN).await?;
        let rows = Statement::new(
            "SELECT DISTINCT r.source_ref FROM catalog_relations r \
             JOIN catalog_entities e ON e.id = r.originator_id WHERE e.location_id = $1",
        )
        .bind(id)
        .fetch_all::<DB>(&mut tx)
        .await?;
        let peers = rows
            .iter()
            .map(|r| r.text(0))
            .collect::<Result<BTreeSet<_>, _>>()?;
        let deleted = Statement::new("DELETE FROM catalog_locations WHERE id = $1")
            .bind(id)
            .execute::<DB>(&mut tx)
            .await?;
        if deleted == 0 {
            return Ok(false);
        }
        restitch::<DB>(&mut tx, &peers).await?;
        bump_version::<DB>(&mut tx).await?;
        tx.commit().await?;
        self.counts.invalidate();
        Ok(true)
    }
}
