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
    /// Most entities one location (its whole tree) may produce; past it, that read fails.
    pub max_entities_per_location: u64,
    /// Most bytes read in one pass over a location's tree; past it, that read fails.
    pub max_bytes_per_location: u64,
    /// What becomes of an entity its location no longer lists: `delete` (Backstage's default)
    /// or `keep` (annotated `backstage.io/orphan: "true"` until deleted by uid).
    pub orphan_strategy: String,
    /// Bytes of whole answers kept until the catalog changes (`catalog::answers`); 0 keeps none.
    pub kept_answers_bytes: u64,
}

impl Default for CatalogSettings {
    fn default() -> Self {
        Self {
            file_roots: Vec::new(),
            refresh_interval: "5m".into(),
            allowed_kinds: ALL_KINDS.iter().map(|k| (*k).to_owned()).collect(),
            max_entities_per_location: 100_000,
            max_bytes_per_location: 256 * 1024 * 1024,
            orphan_strategy: "delete".into(),
            kept_answers_bytes: 64 * 1024 * 1024,
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
    pub limits: LocationLimits,
    /// `orphan_strategy = "keep"`.
    pub keep_orphans: bool,
    /// See [`CatalogSettings::kept_answers_bytes`].
    pub kept_answers_bytes: usize,
}

/// What one pass over a location's tree may read and produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocationLimits {
    pub max_entities: usize,
    pub max_bytes: u64,
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
        for (setting, value) in [
            (
                "catalog.max_entities_per_location",
                self.max_entities_per_location,
            ),
            (
                "catalog.max_bytes_per_location",
                self.max_bytes_per_location,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::new(setting, "must be at least 1"));
            }
        }
        let keep_orphans = match self.orphan_strategy.as_str() {
            "delete" => false,
            "keep" => true,
            other => {
                return Err(ConfigError::new(
                    "catalog.orphan_strategy",
                    format!("'{other}' is neither \"keep\" nor \"delete\""),
                ));
            }
        };
        Ok(CatalogConfig {
            keep_orphans,
            file_roots,
            refresh_interval,
            allowed_kinds,
            limits: LocationLimits {
                max_entities: usize::try_from(self.max_entities_per_location).unwrap_or(usize::MAX),
                max_bytes: self.max_bytes_per_location,
            },
            kept_answers_bytes: usize::try_from(self.kept_answers_bytes).unwrap_or(usize::MAX),
        })
    }
}
