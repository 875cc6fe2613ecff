//! Reads the web UI makes through the catalog service (the API's handlers answer the same
//! questions for their routes): the registered locations, and entities by ref.

use super::model::{EntityRef, Location};
use super::service::{Catalog, CatalogError};

impl Catalog {
    /// Every registered location, with its status and the errors of its last processing.
    pub async fn locations(&self) -> Result<Vec<Location>, CatalogError> {
        Ok(self.store.locations().await?)
    }

    /// The served JSON of an entity, by ref (case-insensitive, as Backstage compares refs).
    pub async fn entity(&self, entity_ref: &EntityRef) -> Result<Option<String>, CatalogError> {
        let found = self.store.by_refs(&[entity_ref.to_string()]).await?;
        Ok(found.into_iter().next().map(|(_, body)| body))
    }
}

impl Catalog {
    /// The served JSON of the entities with these refs that exist, as `(ref, body)`.
    pub async fn entities(&self, refs: &[String]) -> Result<Vec<(String, String)>, CatalogError> {
        Ok(self.store.by_refs(refs).await?)
    }

    /// The location whose processing produced `entity_ref`.
    pub async fn location_of(
        &self,
        entity_ref: &EntityRef,
    ) -> Result<Option<Location>, CatalogError> {
        match self.store.owner_location(&entity_ref.to_string()).await? {
            Some(id) => Ok(self.store.location(&id).await?),
            None => Ok(None),
        }
    }

    /// `(value as written, number of entities)` of `key` over the entities matching `filter`.
    pub async fn facet(
        &self,
        key: &str,
        filter: &super::filter::Filter,
    ) -> Result<Vec<(String, i64)>, CatalogError> {
        Ok(self.store.facet(&key.to_lowercase(), filter).await?)
    }
}
