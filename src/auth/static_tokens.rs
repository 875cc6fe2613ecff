//! Static service tokens from configuration. Tokens are kept as SHA-256 digests and every one is
//! compared in constant time, so neither a match nor its position shows in the timing.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::auth::StaticToken;

pub struct StaticTokens {
    entries: Vec<([u8; 32], String)>,
}

impl StaticTokens {
    pub fn new(tokens: &[StaticToken]) -> Self {
        Self {
            entries: tokens
                .iter()
                .map(|t| (digest(&t.token), t.subject.clone()))
                .collect(),
        }
    }

    /// The subject of `token`, if it is one of ours.
    pub fn find(&self, token: &str) -> Option<&str> {
        if self.entries.is_empty() {
            return None;
        }
        let presented = digest(token);
        let mut found = None;
        for (candidate, subject) in &self.entries {
            if bool::from(candidate.ct_eq(&presented)) {
                found = Some(subject.as_str());
            }
        }
        found
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}
