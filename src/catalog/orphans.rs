//! Orphans under `[catalog] orphan_strategy = "keep"`: an entity its location no longer lists
//! stays, annotated `backstage.io/orphan: "true"` (uid, relations and status unchanged), until the
//! location lists it again (the annotation goes, the uid stays) or it is deleted by uid. Under
//! `delete`, Backstage's default, the location's processing removes it.

use std::collections::HashSet;

use serde_json::Value;

use super::filter::{Condition, Filter};
use super::model::{Entity, EntityRef, Location, MANAGED_BY_ORIGIN_LOCATION, ORPHAN};
use super::relations::relations_of;
use super::service::{Catalog, CatalogError};
use super::stitch::processed_hash;
use super::store::{ProcessedEntity, RowQuery};

impl Catalog {
    /// `entities` (what `location`'s processing produced) plus every entity the location has
    /// stored that they no longer list, annotated as an orphan.
    pub(super) async fn with_orphans(
        &self,
        location: &Location,
        mut entities: Vec<ProcessedEntity>,
    ) -> Result<Vec<ProcessedEntity>, CatalogError> {
        let filter = Filter {
            any_of: vec![vec![(
                format!("metadata.annotations.{MANAGED_BY_ORIGIN_LOCATION}"),
                Condition::In(vec![location.spec.key().to_lowercase()]),
            )]],
        };
        let stored = self.store.query(&RowQuery::new(filter)).await?;
        let listed: HashSet<String> = entities.iter().map(|e| e.entity_ref.clone()).collect();
        for row in stored {
            let Ok(served) = serde_json::from_str::<Entity>(&row.body) else {
                continue;
            };
            let entity_ref = EntityRef::of(&served).to_string();
            if !listed.contains(&entity_ref) {
                entities.push(orphaned(served, entity_ref));
            }
        }
        Ok(entities)
    }

    /// Whether the entity `entity_ref` is a kept orphan.
    pub(super) async fn is_orphan(&self, entity_ref: &str) -> Result<bool, CatalogError> {
        let found = self.store.by_refs(&[entity_ref.to_owned()]).await?;
        Ok(found.first().is_some_and(|(_, body)| {
            serde_json::from_str::<Value>(body)
                .is_ok_and(|e| e["metadata"]["annotations"][ORPHAN].as_str() == Some("true"))
        }))
    }
}

/// The processed form of a served entity its location no longer lists: what stitching added
/// (uid, etag, relations) taken off, the orphan annotation put on.
fn orphaned(mut entity: Entity, entity_ref: String) -> ProcessedEntity {
    entity.remove("relations");
    if let Some(Value::Object(meta)) = entity.get_mut("metadata") {
        meta.remove("uid");
        meta.remove("etag");
        if let Value::Object(annotations) = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(Default::default()))
        {
            annotations.insert(ORPHAN.into(), "true".into());
        }
    }
    let relations = relations_of(&entity).unwrap_or_default();
    let processed = serde_json::to_string(&entity).unwrap_or_default();
    ProcessedEntity {
        entity_ref,
        hash: processed_hash(&processed),
        relations,
        processed,
    }
}
