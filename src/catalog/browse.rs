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
