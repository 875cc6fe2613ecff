//! Reading and parsing the files of a location tree: small files in batches, each batch read,
//! parsed and checked on one blocking thread, so a tree of 50,000 one-entity files costs a few
//! thousand hand-offs between threads instead of two per file.

use std::collections::VecDeque;

use axum::body::Bytes;

use super::origin::file_name;
use super::{Documents, FileEntity, Ingest, documents_of};
use crate::catalog::model::{LocationSpec, LocationType};
use crate::catalog::placeholder::has_placeholders;
use crate::catalog::read::{FileValidators, ReadError, ReadOutcome, Validators};

/// A file of the tree to read, with its content when it was read already (the root).
pub(super) type Queued = (LocationSpec, Option<(Bytes, FileValidators)>);

/// One file of a location tree, read and parsed.
pub(super) enum FileOutcome {
    Parsed {
        validators: FileValidators,
        /// The validators of files read for placeholders.
        placeholder_validators: Validators,
        entities: Vec<FileEntity>,
        errors: Vec<String>,
        /// Bytes read.
        size: usize,
    },
    NotModified,
    Failed(ReadError),
}

/// What the blocking part of reading one file gave.
enum Parsed {
    Checked {
        validators: FileValidators,
        entities: Vec<FileEntity>,
        errors: Vec<String>,
        size: usize,
    },
    /// The documents have placeholders: they are resolved on the runtime (their reads may be
    /// URLs), then checked.
    Placeholders {
        validators: FileValidators,
        documents: Documents,
        size: usize,
    },
    NotModified,
    Failed(ReadError),
}

/// What a file of a batch starts from on the blocking thread.
enum Input {
    /// A `file` target, read there.
    File,
    /// Content read already.
    Body(Bytes, FileValidators),
    /// Nothing to parse.
    Done(Parsed),
}

/// The next batch of `queue`: up to `size` `file` targets in queue order, or one other target
/// (a URL is read on the runtime, so batching it would only read URLs one after another).
pub(super) fn next_batch(queue: &mut VecDeque<Queued>, size: usize) -> Option<Vec<Queued>> {
    let first = queue.pop_front()?;
    let batched = |(spec, body): &Queued| spec.kind == LocationType::File && body.is_none();
    let mut batch = vec![first];
    if batched(&batch[0]) {
        while batch.len() < size && queue.front().is_some_and(batched) {
            batch.extend(queue.pop_front());
        }
    }
    Some(batch)
}

impl Ingest {
    /// Reads and parses the files of `batch`, in order: URLs and placeholders on the runtime,
    /// everything else on one blocking thread, never on the runtime's.
    pub(super) async fn read_batch(
        &self,
        batch: Vec<Queued>,
        root: &LocationSpec,
    ) -> Vec<(LocationSpec, FileOutcome)> {
        let mut inputs = Vec::with_capacity(batch.len());
        for (spec, body) in batch {
            let input = match body {
                Some((bytes, validators)) => Input::Body(bytes, validators),
                None if spec.kind == LocationType::File => Input::File,
                None => match self.reader.read(&spec, None).await {
                    Ok(ReadOutcome::Body { bytes, validators }) => Input::Body(bytes, validators),
                    Ok(ReadOutcome::NotModified) => Input::Done(Parsed::NotModified),
                    Err(e) => Input::Done(Parsed::Failed(e)),
                },
            };
            inputs.push((spec, input));
        }
        let specs: Vec<LocationSpec> = inputs.iter().map(|(spec, _)| spec.clone()).collect();
        let (this, origin) = (self.clone(), root.clone());
        // The stored form (JSON, hash) is made here too, off the runtime; callers that only
        // validate (`Catalog::read_root`, validate-entity) skip it.
        let parsed = tokio::task::spawn_blocking(move || {
            inputs
                .into_iter()
                .map(|(spec, input)| match input {
                    Input::File => match this.reader.read_file_now(&spec.target, None) {
                        Ok(ReadOutcome::Body { bytes, validators }) => {
                            this.parse_now(&bytes, validators, &spec, &origin)
                        }
                        Ok(ReadOutcome::NotModified) => Parsed::NotModified,
                        Err(e) => Parsed::Failed(e),
                    },
                    Input::Body(bytes, validators) => {
                        this.parse_now(&bytes, validators, &spec, &origin)
                    }
                    Input::Done(parsed) => parsed,
                })
                .collect::<Vec<_>>()
        })
        .await;
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(e) => {
                tracing::error!(error = %e, "parsing catalog files failed");
                let unparsed = |spec: &LocationSpec| Parsed::Checked {
                    validators: FileValidators::default(),
                    entities: Vec::new(),
                    errors: vec![unparsed(spec)],
                    size: 0,
                };
                specs.iter().map(unparsed).collect()
            }
        };
        let mut outcomes = Vec::with_capacity(specs.len());
        for (spec, parsed) in specs.into_iter().zip(parsed) {
            let outcome = self.finish(parsed, &spec, root).await;
            outcomes.push((spec, outcome));
        }
        outcomes
    }

    /// Parses and checks one file's content (on a blocking thread).
    fn parse_now(
        &self,
        bytes: &[u8],
        validators: FileValidators,
        file: &LocationSpec,
        origin: &LocationSpec,
    ) -> Parsed {
        let size = bytes.len();
        match documents_of(bytes, file) {
            Err(e) => Parsed::Checked {
                validators,
                entities: Vec::new(),
                errors: vec![e],
                size,
            },
            Ok(documents) if documents.documents.iter().any(|(_, d)| has_placeholders(d)) => {
                Parsed::Placeholders {
                    validators,
                    documents,
                    size,
                }
            }
            Ok(documents) => {
                let (entities, errors) = self.checked_file(documents, file, origin);
                Parsed::Checked {
                    validators,
                    entities,
                    errors,
                    size,
                }
            }
        }
    }

    /// The outcome of a file: placeholders resolved (their reads on the runtime), then checked
    /// on a blocking thread.
    async fn finish(
        &self,
        parsed: Parsed,
        spec: &LocationSpec,
        root: &LocationSpec,
    ) -> FileOutcome {
        let (validators, documents, size) = match parsed {
            Parsed::Checked {
                validators,
                entities,
                errors,
                size,
            } => {
                return FileOutcome::Parsed {
                    validators,
                    placeholder_validators: Validators::new(),
                    entities,
                    errors,
                    size,
                };
            }
            Parsed::NotModified => return FileOutcome::NotModified,
            Parsed::Failed(e) => return FileOutcome::Failed(e),
            Parsed::Placeholders {
                validators,
                documents,
                size,
            } => (validators, documents, size),
        };
        let (documents, mut errors, placeholder_validators) =
            self.resolve_placeholders(documents, spec).await;
        let (this, file, origin) = (self.clone(), spec.clone(), root.clone());
        let checked =
            tokio::task::spawn_blocking(move || this.checked_file(documents, &file, &origin)).await;
        let entities = match checked {
            Ok((entities, more)) => {
                errors.extend(more);
                entities
            }
            Err(e) => {
                tracing::error!(error = %e, target = %spec.key(), "parsing a catalog file failed");
                errors.push(unparsed(spec));
                Vec::new()
            }
        };
        FileOutcome::Parsed {
            validators,
            placeholder_validators,
            entities,
            errors,
            size,
        }
    }

    /// The checked entities of a parsed file in the form they are stored in, and its errors.
    fn checked_file(
        &self,
        documents: Documents,
        file: &LocationSpec,
        origin: &LocationSpec,
    ) -> (Vec<FileEntity>, Vec<String>) {
        let (entities, errors) = self.check_documents(documents, file, origin);
        let entities = entities
            .into_iter()
            .map(|(entity, relations)| FileEntity::new(entity, relations))
            .collect();
        (entities, errors)
    }
}

/// The error of a file whose parsing thread failed.
fn unparsed(spec: &LocationSpec) -> String {
    format!(
        "Invalid {}: it could not be parsed",
        file_name(&spec.target)
    )
}
