//! Facets (`GET /entity-facets`, the catalog page's filters): per field, each value and how many
//! matching entities have it. The SQL is the store's (`store/read.rs`).

use std::collections::BTreeMap;

use axum::body::Bytes;

use super::answers::Built;
use super::filter::Filter;
use super::service::{Catalog, CatalogError};

impl Catalog {
    /// Per facet (a field), each value as written and how many entities matching `filter` have
    /// it. Where the catalog has a version (one writer), the counts are kept until it changes
    /// (see [`answers`](super::answers)): a facet counts every match (0.1 s a facet at 50,000
    /// entities), and the catalog page asks for six at each visit.
    pub async fn facets(
        &self,
        facets: Vec<String>,
        filter: &Filter,
    ) -> Result<BTreeMap<String, Vec<(String, i64)>>, CatalogError> {
        let Some(version) = self.store.version().filter(|_| self.answers.enabled()) else {
            return self.count_facets(&facets, filter).await;
        };
        let key = format!("facets {facets:?} {filter:?}");
        let store = self.store.clone();
        let build = || async {
            let counts = self.count_facets(&facets, filter).await?;
            let json = serde_json::to_vec(&counts).unwrap_or_default();
            Ok::<_, CatalogError>(Built::Answer(vec![Bytes::from(json)]))
        };
        let answer = self
            .answers
            .get_or_build(&key, version, move || store.version(), build)
            .await?;
        let kept = answer.and_then(|answer| {
            let json: Vec<u8> = answer.chunks().concat();
            serde_json::from_slice(&json).ok()
        });
        match kept {
            Some(counts) => Ok(counts),
            None => self.count_facets(&facets, filter).await,
        }
    }

    async fn count_facets(
        &self,
        facets: &[String],
        filter: &Filter,
    ) -> Result<BTreeMap<String, Vec<(String, i64)>>, CatalogError> {
        let mut counts = BTreeMap::new();
        for facet in facets {
            let values = self.store.facet(facet, filter).await?;
            counts.insert(facet.clone(), values);
        }
        Ok(counts)
    }
}
