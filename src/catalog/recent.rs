//! The entities changed last (the home page's "recently changed entities"), as Backstage orders
//! its final entities by `last_updated_at`: an entity counts as changed when it is added and
//! whenever what is served for it changes, relations included. The SQL is the store's
//! (`store/read.rs`).

use super::service::{Catalog, CatalogError};

/// The most entities one call returns.
pub const MAX_RECENT: u32 = 100;

/// An entity and when its served form last changed.
pub struct ChangedEntity {
    /// Its served JSON.
    pub body: String,
    /// Milliseconds since the Unix epoch.
    pub changed_at_ms: i64,
}

impl Catalog {
    /// The `limit` (at most [`MAX_RECENT`]) entities changed last, latest first; Location
    /// entities, which record where the others came from, are left out.
    pub async fn recently_changed(&self, limit: u32) -> Result<Vec<ChangedEntity>, CatalogError> {
        let rows = self.store.recently_changed(limit.min(MAX_RECENT)).await?;
        Ok(rows
            .into_iter()
            .map(|(body, changed_at_ms)| ChangedEntity {
                body,
                changed_at_ms,
            })
            .collect())
    }
}
