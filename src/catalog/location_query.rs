//! `POST /locations/by-query`: registered locations matching a predicate on `id`, `type`, `target`
//! and `entityRef` (the operators of the entity predicate, case-insensitive), by id, one page at a
//! time with Backstage's cursor (base64 JSON of `{limit, afterId, query?}`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::Location;
use super::predicate::predicate_filter;
use super::search::SearchRow;
use super::service::{Catalog, CatalogError};

/// Locations per page when the request names no limit.
const DEFAULT_LIMIT: u64 = 1000;
/// The predicate's keys, lower-case.
const KEYS: [&str; 4] = ["id", "type", "target", "entityref"];

/// One page of locations.
pub struct LocationPage {
    /// The page, by id.
    pub items: Vec<Location>,
    /// How many locations match the query in all.
    pub total_items: usize,
    /// The cursor of the next page, if there is one.
    pub next_cursor: Option<String>,
}

/// What a cursor holds.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Cursor {
    limit: u64,
    after_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    query: Option<Value>,
}

fn invalid(message: impl Into<String>) -> CatalogError {
    CatalogError::Invalid(message.into())
}

impl Catalog {
    /// A page of the locations matching `query`; with `cursor`, the page after it (the cursor's
    /// limit and query are used, the others ignored).
    pub async fn query_locations(
        &self,
        query: Option<Value>,
        limit: Option<&Value>,
        cursor: Option<&str>,
    ) -> Result<LocationPage, CatalogError> {
        let (query, limit, after) = match cursor {
            Some("") => return Err(invalid("Cursor cannot be empty")),
            Some(text) => {
                let json = STANDARD
                    .decode(text)
                    .ok()
                    .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
                    .ok_or_else(|| invalid("Malformed cursor, unknown encoding"))?;
                let cursor: Cursor = serde_json::from_value(json)
                    .map_err(|e| invalid(format!("Malformed cursor: {e}")))?;
                (cursor.query, cursor.limit.max(1), Some(cursor.after_id))
            }
            None => {
                let limit = match limit {
                    None => DEFAULT_LIMIT,
                    Some(v) => v
                        .as_u64()
                        .filter(|l| *l >= 1)
                        .ok_or_else(|| invalid("Limit must be a positive integer >= 1"))?,
                };
                (query, limit, None)
            }
        };
        let filter = match &query {
            None => None,
            Some(q) => {
                let filter = predicate_filter(q).map_err(CatalogError::Invalid)?;
                for (key, _) in filter.any_of.iter().flatten() {
                    if !KEYS.contains(&key.as_str()) {
                        return Err(invalid(format!(
                            "Invalid filter predicate, expected key to be 'id', 'type', 'target', or 'entityRef', got '{key}'"
                        )));
                    }
                }
                Some(filter)
            }
        };
        let mut matching: Vec<Location> = self
            .store
            .locations()
            .await?
            .into_iter()
            .filter(|l| filter.as_ref().is_none_or(|f| f.matches(&rows_of(l))))
            .collect();
        matching.sort_by(|a, b| a.id.cmp(&b.id));
        let total_items = matching.len();
        let start = after.map_or(0, |after| matching.partition_point(|l| l.id <= after));
        let mut items: Vec<Location> = matching.into_iter().skip(start).collect();
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_cursor = (items.len() > limit).then(|| {
            items.truncate(limit);
            let cursor = Cursor {
                limit: limit as u64,
                after_id: items.last().map(|l| l.id.clone()).unwrap_or_default(),
                query,
            };
            STANDARD.encode(serde_json::to_vec(&cursor).unwrap_or_default())
        });
        Ok(LocationPage {
            items,
            total_items,
            next_cursor,
        })
    }
}

/// A location as the rows a predicate is tested on.
fn rows_of(location: &Location) -> Vec<SearchRow> {
    let row = |key: &str, value: &str| SearchRow {
        key: key.to_owned(),
        value: Some(value.to_lowercase()),
        original: Some(value.to_owned()),
    };
    vec![
        row("id", &location.id),
        row("type", location.spec.kind.as_str()),
        row("target", &location.spec.target),
        row("entityref", &location.spec.generated_entity_ref()),
    ]
}
