//! Who belongs to which group, as the catalog says: a group's `hasMember` relations (from its
//! `spec.members`, or a user's `spec.memberOf`). The UI's admin check and "my teams" read it.

use super::entities::{EntityList, Fields, Listing};
use super::filter::{Condition, Filter};
use super::model::EntityRef;
use super::service::{Catalog, CatalogError};

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
        let list = EntityList {
            filter,
            fields: Fields::parse(&["kind,metadata.name,metadata.namespace".into()])?,
            limit: Some(MAX_GROUPS),
            ..EntityList::default()
        };
        let Listing::Page { items, .. } = self.list(list).await? else {
            return Ok(Vec::new());
        };
        let mut groups: Vec<String> = items
            .iter()
            .filter_map(|item| serde_json::from_str(item).ok())
            .map(|entity| EntityRef::of(&entity).to_string())
            .collect();
        groups.sort();
        Ok(groups)
    }
}
