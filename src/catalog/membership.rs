//! Who belongs to which group, as the catalog says: a group's `hasMember` relations (from its
//! `spec.members`, or a user's `spec.memberOf`). The UI's admin check and "my teams" read it.

use super::filter::{Condition, Filter};
use super::model::EntityRef;
use super::service::{Catalog, CatalogError};
use super::store::EntityQuery;

/// Most groups looked at for one user.
const MAX_GROUPS: u64 = 200;

impl Catalog {
    /// The refs (lower-case) of the groups `user_ref` is a member of, sorted.
    pub async fn groups_of(&self, user_ref: &str) -> Result<Vec<String>, CatalogError> {
        let filter = Filter {
            any_of: vec![vec![
                ("kind".into(), Condition::In(vec!["group".into()])),
                (
                    "relations.hasmember".into(),
                    Condition::In(vec![user_ref.to_lowercase()]),
                ),
            ]],
        };
        let mut query = EntityQuery::new(filter);
        query.limit = Some(MAX_GROUPS);
        let rows = self.store.query(&query).await?;
        let mut groups: Vec<String> = rows
            .iter()
            .filter_map(|row| serde_json::from_str(&row.body).ok())
            .map(|entity| EntityRef::of(&entity).to_string())
            .collect();
        groups.sort();
        Ok(groups)
    }
}
