//! Reading one location target: `file` below `[catalog] file_roots` (canonicalised, so neither
//! `..` nor a symlink can leave a root), `url` through the guarded fetcher. Reads are conditional
//! when the previous read's validators are known.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use axum::body::Bytes;
use serde::{Deserialize, Serialize};

use super::model::{LocationSpec, LocationType};
use super::parse::MAX_FILE_BYTES;
use crate::fetch::{self, FetchError, Fetched, Fetcher};

/// What makes a re-read conditional: an ETag, a Last-Modified date (for files: mtime and size).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileValidators {
    /// The ETag a URL answered with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The Last-Modified a URL answered with; for a file, its modification time and size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// The validators of every file of a location tree, by `<type>:<target>`.
pub type Validators = BTreeMap<String, FileValidators>;

/// What reading a target gave.
pub enum ReadOutcome {
    /// The target's content, with what makes the next read conditional.
    Body {
        /// The file as read.
        bytes: Bytes,
        /// Its ETag, Last-Modified or file time and size.
        validators: FileValidators,
    },
    /// The target answered that it has not changed since the validators given.
    NotModified,
}

/// Why a target could not be read, worded for the person who registered it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// No file at the target (`file` or `url`, then the target).
    #[error("NotFoundError: Unable to read {0}, no matching files found for {1}")]
    NotFound(&'static str, String),
    /// The target is not allowed (outside the file roots, or refused by the fetcher).
    #[error("{0}")]
    Refused(String),
    /// Reading failed (`file` or `url`, then why).
    #[error("Unable to read {0}, {1}")]
    Failed(&'static str, String),
}

/// Reads location targets.
#[derive(Clone)]
pub struct Reader {
    roots: Arc<Vec<PathBuf>>,
    fetcher: Fetcher,
}

impl Reader {
    /// Reads `file` targets below `roots` (canonical paths) and `url` targets through `fetcher`.
    pub fn new(roots: Vec<PathBuf>, fetcher: Fetcher) -> Reader {
        Reader {
            roots: Arc::new(roots),
            fetcher,
        }
    }

    /// The canonical form of a `file` target, if it is below a configured root. A target outside
    /// the roots gets the same answer whether or not anything exists there (no existence oracle):
    /// "not found" is only said of a path whose nearest existing directory is inside a root.
    pub fn canonical_file(&self, target: &str) -> Result<PathBuf, ReadError> {
        if self.roots.is_empty() {
            return Err(ReadError::Refused(
                "file locations are disabled: configure catalog.file_roots to allow directories"
                    .into(),
            ));
        }
        let path = Path::new(target);
        if !path.is_absolute() {
            return Err(ReadError::Refused(format!(
                "file target '{target}' must be an absolute path"
            )));
        }
        let outside = || {
            ReadError::Refused(format!(
                "file target '{target}' is outside the directories in catalog.file_roots"
            ))
        };
        let inside = |canonical: &Path| self.roots.iter().any(|root| canonical.starts_with(root));
        match std::fs::canonicalize(path) {
            Ok(canonical) if inside(&canonical) => Ok(canonical),
            Ok(_) => Err(outside()),
            Err(e) => {
                if !self.nearest_existing_is_inside(path) {
                    return Err(outside());
                }
                Err(match e.kind() {
                    std::io::ErrorKind::NotFound => ReadError::NotFound("file", target.to_owned()),
                    _ => ReadError::Failed("file", format!("{target}: {e}")),
                })
            }
        }
    }

    /// Whether the nearest ancestor of `path` that exists resolves inside a root, and the first
    /// missing step below it is not a symbolic link (whose target, outside, may be what is
    /// missing).
    fn nearest_existing_is_inside(&self, path: &Path) -> bool {
        let mut missing = path;
        while let Some(parent) = missing.parent() {
            if let Ok(canonical) = std::fs::canonicalize(parent) {
                return self.roots.iter().any(|root| canonical.starts_with(root))
                    && std::fs::symlink_metadata(missing).is_err();
            }
            missing = parent;
        }
        false
    }

    /// Reads `spec`; `previous` makes the read conditional.
    pub async fn read(
        &self,
        spec: &LocationSpec,
        previous: Option<&FileValidators>,
    ) -> Result<ReadOutcome, ReadError> {
        match spec.kind {
            LocationType::File => self.read_file(&spec.target, previous).await,
            LocationType::Url => self.read_url(&spec.target, previous).await,
        }
    }

    async fn read_url(
        &self,
        target: &str,
        previous: Option<&FileValidators>,
    ) -> Result<ReadOutcome, ReadError> {
        let previous = previous.map(|v| fetch::Validators {
            etag: v.etag.clone(),
            last_modified: v.last_modified.clone(),
        });
        match self.fetcher.get(target, previous.as_ref()).await {
            Ok(Fetched::Body {
                body, validators, ..
            }) => Ok(ReadOutcome::Body {
                bytes: body,
                validators: FileValidators {
                    etag: validators.etag,
                    last_modified: validators.last_modified,
                },
            }),
            Ok(Fetched::NotModified) => Ok(ReadOutcome::NotModified),
            Err(FetchError::Status { status: 404 | 410 }) => {
                Err(ReadError::NotFound("url", target.to_owned()))
            }
            Err(
                e @ (FetchError::InvalidUrl(_)
                | FetchError::NotHttps
                | FetchError::HostNotAllowed { .. }
                | FetchError::CredentialsInUrl
                | FetchError::ForbiddenAddress { .. }),
            ) => Err(ReadError::Refused(format!("Cannot read {target}: {e}"))),
            Err(e) => Err(ReadError::Failed("url", format!("{target}: {e}"))),
        }
    }

    /// Reads a `file` target on a blocking thread, path checks included: canonicalising blocks
    /// too, so none of it runs on the runtime's threads, and a file costs one hand-off between
    /// threads instead of two (`tokio::fs` for the metadata, then for the content).
    async fn read_file(
        &self,
        target: &str,
        previous: Option<&FileValidators>,
    ) -> Result<ReadOutcome, ReadError> {
        let (reader, target, previous) = (self.clone(), target.to_owned(), previous.cloned());
        tokio::task::spawn_blocking(move || reader.read_file_now(&target, previous.as_ref()))
            .await
            .unwrap_or_else(|e| Err(ReadError::Failed("file", format!("reading failed: {e}"))))
    }

    /// Reads a `file` target on the calling thread (which may block): path checks, then the file.
    pub fn read_file_now(
        &self,
        target: &str,
        previous: Option<&FileValidators>,
    ) -> Result<ReadOutcome, ReadError> {
        let path = self.canonical_file(target)?;
        let fail = |e: std::io::Error| ReadError::Failed("file", format!("{target}: {e}"));
        let meta = std::fs::metadata(&path).map_err(fail)?;
        if !meta.is_file() {
            return Err(ReadError::Failed("file", format!("{target} is not a file")));
        }
        if meta.len() > MAX_FILE_BYTES as u64 {
            return Err(ReadError::Failed(
                "file",
                format!(
                    "{target} is {} bytes; catalog files may be at most {MAX_FILE_BYTES} bytes",
                    meta.len()
                ),
            ));
        }
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let validators = FileValidators {
            etag: None,
            last_modified: Some(format!("{modified}-{}", meta.len())),
        };
        if previous == Some(&validators) {
            return Ok(ReadOutcome::NotModified);
        }
        let bytes = std::fs::read(&path).map_err(fail)?;
        Ok(ReadOutcome::Body {
            bytes: bytes.into(),
            validators,
        })
    }
}
