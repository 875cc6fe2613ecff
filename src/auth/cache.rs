//! Verified tokens, kept until they expire so a token's signature is checked once.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::principal::Principal;

/// At most this many tokens are remembered; past it, expired ones go, then all.
const CAPACITY: usize = 50_000;

#[derive(Default)]
pub struct TokenCache {
    entries: RwLock<HashMap<String, (Principal, u64)>>,
}

impl TokenCache {
    /// The principal of a token verified earlier, unless it has expired since (`now` in epoch seconds).
    pub fn get(&self, token: &str, now: u64) -> Option<Principal> {
        let entries = self
            .entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .get(token)
            .filter(|(_, exp)| *exp > now)
            .map(|(principal, _)| principal.clone())
    }

    pub fn insert(&self, token: &str, principal: Principal, exp: u64) {
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            let now = jsonwebtoken::get_current_timestamp();
            entries.retain(|_, (_, exp)| *exp > now);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(token.to_owned(), (principal, exp));
    }
}
