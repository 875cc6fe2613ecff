//! `[catalog]`: where `file` locations may be read from, how often locations are re-read, and which
//! entity kinds a registered location may contain.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// Every kind the catalog understands; the default allow-list.
pub const ALL_KINDS: [&str; 9] = [
    "Component",
    "API",
    "Resource",
    "System",
    "Domain",
    "Group",
    "User",
    "Location",
    "Template",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogSettings {
    /// Directories below which `file` locations may be registered. Empty: `file` is refused.
    pub file_roots: Vec<String>,
    /// How often every location is re-read (a random jitter of up to 10% is added).
    pub refresh_interval: String,
    /// Kinds that registered locations may contain (case-insensitive).
    pub allowed_kinds: Vec<String>,
}

impl Default for CatalogSettings {
    fn default() -> Self {
        Self {
            file_roots: Vec::new(),
            refresh_interval: "5m".into(),
            allowed_kinds: ALL_KINDS.iter().map(|k| (*k).to_owned()).collect(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct CatalogConfig {
    /// Canonical (absolute, symlink-free) root directories.
    pub file_roots: Vec<PathBuf>,
    pub refresh_interval: Duration,
    /// Lower-cased allowed kinds.
    pub allowed_kinds: Vec<String>,
}

impl CatalogSettings {
    pub fn validate(&self) -> Result<CatalogConfig, ConfigError> {
        let mut file_roots = Vec::new();
        for root in &self.file_roots {
            let canonical = std::fs::canonicalize(root).map_err(|e| {
                ConfigError::new(
                    "catalog.file_roots",
                    format!("'{root}' is not a readable directory: {e}"),
                )
            })?;
            if !canonical.is_dir() {
                return Err(ConfigError::new(
                    "catalog.file_roots",
                    format!("'{root}' is not a directory"),
                ));
            }
            file_roots.push(canonical);
        }
        let refresh_interval = super::duration("catalog.refresh_interval", &self.refresh_interval)?;
        if refresh_interval < Duration::from_secs(1) {
            return Err(ConfigError::new(
                "catalog.refresh_interval",
                "must be at least 1s",
            ));
        }
        let mut allowed_kinds = Vec::new();
        for kind in &self.allowed_kinds {
            let Some(known) = ALL_KINDS.iter().find(|k| k.eq_ignore_ascii_case(kind)) else {
                return Err(ConfigError::new(
                    "catalog.allowed_kinds",
                    format!(
                        "unknown kind '{kind}'; known kinds: {}",
                        ALL_KINDS.join(", ")
                    ),
                ));
            };
            allowed_kinds.push(known.to_ascii_lowercase());
        }
        Ok(CatalogConfig {
            file_roots,
            refresh_interval,
            allowed_kinds,
        })
    }
}
