//! An entity's ancestry (`GET /entities/by-name/{kind}/{namespace}/{name}/ancestry`): the entity,
//! then the Location entities that led to it, each with its parents, as Backstage answers it.
//!
//! An entity's parent is the Location entity whose target is the file it was read from (its
//! `backstage.io/managed-by-location`): the Location generated for the registered location when
//! that file is the registered target, otherwise the Location entity of the same registered
//! location that lists the file. The generated Location has no parent; an orphan has none either.

use std::collections::HashSet;

use serde_json::Value;

use super::filter::{Condition, Filter};
use super::ingest::nested_targets;
use super::model::{
    EntityRef, Location, LocationSpec, LocationType, MANAGED_BY_LOCATION,
    MANAGED_BY_ORIGIN_LOCATION, ORPHAN,
};
use super::service::{Catalog, CatalogError};
use super::store::RowQuery;

/// Most entities one ancestry lists (nesting is bounded by the files of a location).
const MAX_DEPTH: usize = 100;

/// An ancestry: the root's ref, then each entity (served JSON) with its parents' refs.
pub struct Ancestry {
    /// The root entity's ref, lower-case.
    pub root_entity_ref: String,
    /// The root first, then its ancestors, depth first.
    pub items: Vec<(Value, Vec<String>)>,
}

/// The Location entities of one registered location, with the files each lists.
struct Lineage {
    location: Location,
    listing: Vec<(String, Vec<String>)>,
}

impl Catalog {
    /// The ancestry of `kind:namespace/name`; 404 when there is no such entity.
    pub async fn ancestry(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Ancestry, CatalogError> {
        let root = EntityRef::new(kind, namespace, name).to_string();
        let Some(body) = self.served(&root).await? else {
            return Err(CatalogError::NotFound(format!("No such entity {root}")));
        };
        let mut lineage: Option<Lineage> = None;
        let mut seen = HashSet::from([root.clone()]);
        let mut stack = vec![(root.clone(), body)];
        let mut items = Vec::new();
        while let Some((entity_ref, entity)) = stack.pop() {
            if items.len() >= MAX_DEPTH {
                break;
            }
            let parents = self.parents(&entity_ref, &entity, &mut lineage).await?;
            for parent in &parents {
                if seen.insert(parent.clone())
                    && let Some(body) = self.served(parent).await?
                {
                    stack.push((parent.clone(), body));
                }
            }
            items.push((entity, parents));
        }
        Ok(Ancestry {
            root_entity_ref: root,
            items,
        })
    }

    async fn served(&self, entity_ref: &str) -> Result<Option<Value>, CatalogError> {
        let found = self.store.by_refs(&[entity_ref.to_owned()]).await?;
        Ok(found
            .into_iter()
            .next()
            .and_then(|(_, body)| serde_json::from_str(&body).ok()))
    }

    /// The refs of the entities that are `entity`'s parents (at most one here), if stored.
    async fn parents(
        &self,
        entity_ref: &str,
        entity: &Value,
        lineage: &mut Option<Lineage>,
    ) -> Result<Vec<String>, CatalogError> {
        let annotation = |key: &str| {
            entity["metadata"]["annotations"][key]
                .as_str()
                .map(str::to_owned)
        };
        if annotation(ORPHAN).as_deref() == Some("true") {
            return Ok(Vec::new());
        }
        let Some(file) = annotation(MANAGED_BY_LOCATION) else {
            return Ok(Vec::new());
        };
        if lineage.is_none() {
            let Some(id) = self.store.owner_location(entity_ref).await? else {
                return Ok(Vec::new());
            };
            let Some(location) = self.store.location(&id).await? else {
                return Ok(Vec::new());
            };
            *lineage = Some(self.lineage(location).await?);
        }
        let Some(lineage) = lineage.as_ref() else {
            return Ok(Vec::new());
        };
        let generated = lineage.location.spec.generated_entity_ref();
        if entity_ref == generated {
            return Ok(Vec::new());
        }
        let parent = if file == lineage.location.spec.key() {
            Some(generated)
        } else {
            lineage
                .listing
                .iter()
                .find(|(_, files)| files.contains(&file))
                .map(|(r, _)| r.clone())
        };
        Ok(match parent {
            Some(parent) if self.served(&parent).await?.is_some() => vec![parent],
            _ => Vec::new(),
        })
    }

    /// Every Location entity `location` produced, with the files it lists.
    async fn lineage(&self, location: Location) -> Result<Lineage, CatalogError> {
        let filter = Filter {
            any_of: vec![vec![
                ("kind".into(), Condition::In(vec!["location".into()])),
                (
                    format!("metadata.annotations.{MANAGED_BY_ORIGIN_LOCATION}"),
                    Condition::In(vec![location.spec.key().to_lowercase()]),
                ),
            ]],
        };
        let rows = self.store.query(&RowQuery::new(filter)).await?;
        let mut listing = Vec::new();
        for row in rows {
            let Ok(entity) = serde_json::from_str::<serde_json::Map<String, Value>>(&row.body)
            else {
                continue;
            };
            let read_from = entity
                .get("metadata")
                .and_then(|m| m["annotations"][MANAGED_BY_LOCATION].as_str())
                .and_then(|key| key.split_once(':'))
                .and_then(|(kind, target)| {
                    Some(LocationSpec {
                        kind: LocationType::parse(kind)?,
                        target: target.to_owned(),
                    })
                });
            let Some(read_from) = read_from else {
                continue;
            };
            let files = nested_targets(&entity, &read_from, &self.ingest.reader)
                .into_iter()
                .filter_map(|t| t.and_then(|t| self.ingest.normalise(t)).ok())
                .map(|t| t.key())
                .collect();
            listing.push((EntityRef::of(&entity).to_string(), files));
        }
        Ok(Lineage { location, listing })
    }
}
