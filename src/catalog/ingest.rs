//! Processing a location tree: read the target, parse every document, validate every entity,
//! follow nested Location entities (relative targets resolved against their parent, cycles and
//! duplicates reported, never looped), and collect errors per target.

mod files;
mod origin;

use files::{FileOutcome, next_batch};
pub use origin::generated_location;
pub(super) use origin::nested_targets;
use origin::{annotate, file_name};

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use axum::body::Bytes;
use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use serde_json::Value;

use super::model::{Entity, EntityRef, LocationSpec, LocationType};
use super::parse::parse_documents;
use super::placeholder::{self, has_placeholders};
use super::read::{FileValidators, ReadError, Reader, Validators};
use super::relations::{Relation, relations_of};
use super::stitch::{processed_hash, with_status};
use super::store::ProcessedEntity;
use super::validate::validate;
use crate::config::catalog::LocationLimits;

/// Most files one registered location may reach through nested Location entities.
pub const MAX_FILES: usize = 100_000;

/// Files of a location tree read and parsed at once: on two cores, parsing one file while
/// another is parsed or read keeps both busy (50,000 entities in 50 files: 3.1 s read alone,
/// 1.4 s two at a time).
const FILES_AT_ONCE: usize = 2;

/// Files read and parsed at once while the files read so far are small (on average at most
/// [`SMALL_FILE`] bytes): then each file is mostly waiting (hand-offs between threads, system
/// calls), and many in flight keep both cores busy while holding little memory (the catalog of
/// one file per entity: 50,000 files).
const SMALL_FILES_AT_ONCE: usize = 32;

/// Small files read, parsed and checked one after another on one blocking thread: a hand-off
/// between threads costs more than reading and parsing a one-entity file.
const SMALL_FILES_PER_BATCH: usize = 8;

/// See [`SMALL_FILES_AT_ONCE`].
const SMALL_FILE: u64 = 16 * 1024;

/// Everything one processing of a location tree produced.
#[derive(Debug, Default)]
pub struct TreeResult {
    /// Every valid entity the tree produced, in the form that is stored.
    pub entities: Vec<ProcessedEntity>,
    /// Problems of the tree's files and entities, each naming the file (the location shows them).
    pub errors: Vec<String>,
    /// The validators of every file read, for the next, conditional, read.
    pub validators: Validators,
    /// The root target itself could not be read or parsed.
    pub root_failed: bool,
    /// The tree went past `[catalog]`'s limits: why. Nothing of this pass is kept.
    pub over_limit: Option<String>,
    /// `(ref of the Location entity concerned, problem)`: each becomes an item of that entity's
    /// `status.items`, as Backstage's entity page shows processing errors.
    problems: Vec<(String, String)>,
}

impl TreeResult {
    /// Records a problem met reading `file`: on the location's errors, and, when `on` names the
    /// Location entity whose processing met it, on that entity's status.
    fn problem(&mut self, on: Option<&str>, file: &str, message: String) {
        if let Some(on) = on {
            self.problems.push((on.to_owned(), message.clone()));
        }
        self.errors.push(format!("{file}: {message}"));
    }

    /// Puts every problem into the `status.items` of its Location entity.
    fn attach_problems(&mut self) {
        if self.problems.is_empty() {
            return;
        }
        let mut by_ref: HashMap<String, Vec<String>> = HashMap::new();
        for (on, message) in std::mem::take(&mut self.problems) {
            by_ref.entry(on).or_default().push(message);
        }
        for entity in &mut self.entities {
            if let Some(messages) = by_ref.get(&entity.entity_ref)
                && let Some(processed) = with_status(&entity.processed, messages)
            {
                entity.hash = processed_hash(&processed);
                entity.processed = processed;
            }
        }
    }
}

/// Reads location trees: the root target, nested Location entities and their targets, each file validated into the entities to store.
#[derive(Clone)]
pub struct Ingest {
    /// What reads each target (file or URL).
    pub reader: Reader,
    allowed_kinds: Arc<Vec<String>>,
    limits: LocationLimits,
}

impl Ingest {
    /// Reads with `reader`, accepting the entity kinds `allowed_kinds` (lower-case), within
    /// `limits` per pass over a location's tree.
    pub fn new(reader: Reader, allowed_kinds: Vec<String>, limits: LocationLimits) -> Ingest {
        Ingest {
            reader,
            allowed_kinds: Arc::new(allowed_kinds),
            limits,
        }
    }

    /// Parses and validates one file of `spec`: its entities with their relations, or every
    /// problem found. Placeholders are left as written (see [`Ingest::entities_of`]).
    pub fn file_entities(
        &self,
        bytes: &[u8],
        spec: &LocationSpec,
        origin: &LocationSpec,
    ) -> (Vec<(Entity, Vec<Relation>)>, Vec<String>) {
        match documents_of(bytes, spec) {
            Ok(documents) => self.check_documents(documents, spec, origin),
            Err(e) => (Vec::new(), vec![e]),
        }
    }

    /// As [`Ingest::file_entities`], placeholders resolved first.
    pub async fn entities_of(
        &self,
        bytes: &[u8],
        spec: &LocationSpec,
        origin: &LocationSpec,
    ) -> (Vec<(Entity, Vec<Relation>)>, Vec<String>) {
        let documents = match documents_of(bytes, spec) {
            Ok(documents) => documents,
            Err(e) => return (Vec::new(), vec![e]),
        };
        let (documents, mut errors, _) = self.resolve_placeholders(documents, spec).await;
        let (entities, more) = self.check_documents(documents, spec, origin);
        errors.extend(more);
        (entities, errors)
    }

    /// Validates the parsed documents of one file of `spec`.
    fn check_documents(
        &self,
        documents: Documents,
        spec: &LocationSpec,
        origin: &LocationSpec,
    ) -> (Vec<(Entity, Vec<Relation>)>, Vec<String>) {
        let mut entities = Vec::new();
        let mut errors = Vec::new();
        let several = documents.several;
        for (index, document) in documents.documents {
            let at = Documents::label_of(several, &spec.target, index);
            let mut entity = match validate(document, &self.allowed_kinds) {
                Ok(e) => e,
                Err(e) => {
                    errors.push(format!("{at}: {e}"));
                    continue;
                }
            };
            let relations = match relations_of(&entity) {
                Ok(relations) => relations,
                Err(e) => {
                    errors.push(format!("{at}: {e}"));
                    continue;
                }
            };
            annotate(&mut entity, spec, &origin.key());
            entities.push((entity, relations));
        }
        (entities, errors)
    }

    /// Replaces the placeholders of `documents`, read from `spec`: a document whose placeholders
    /// fail is left out, with its error. Also returns the validators of every file read.
    async fn resolve_placeholders(
        &self,
        documents: Documents,
        spec: &LocationSpec,
    ) -> (Documents, Vec<String>, Validators) {
        let mut reads = placeholder::Reads::new();
        let mut kept = Vec::with_capacity(documents.documents.len());
        let mut errors = Vec::new();
        for (index, mut document) in documents.documents {
            if !has_placeholders(&document) {
                kept.push((index, document));
                continue;
            }
            match placeholder::resolve(&mut document, spec, &self.reader, &mut reads).await {
                Ok(()) => kept.push((index, document)),
                Err(e) => errors.push(format!(
                    "{}: {e}",
                    Documents::label_of(documents.several, &spec.target, index)
                )),
            }
        }
        let validators = reads
            .into_iter()
            .filter_map(|(key, read)| read.ok().map(|(_, v)| (key, v)))
            .collect();
        (
            Documents {
                documents: kept,
                several: documents.several,
            },
            errors,
            validators,
        )
    }

    /// Reads every file reachable from `root`. `root_body` (content and validators, from a read
    /// just made) is used for the root when given. Past `[catalog]`'s limits on entities or bytes
    /// the reading stops and everything read so far is dropped at once (`over_limit` says why).
    pub async fn process(
        &self,
        root: &LocationSpec,
        root_body: Option<(Bytes, FileValidators)>,
    ) -> TreeResult {
        let mut result = TreeResult::default();
        let mut seen_refs: HashSet<String> = HashSet::new();
        let mut queue = VecDeque::from([(root.clone(), root_body)]);
        let generated = generated_location(root);
        let relations = relations_of(&generated).unwrap_or_default();
        let generated = FileEntity::new(generated, relations).processed;
        seen_refs.insert(generated.entity_ref.clone());
        // Every file reached so far, with the Location entity that lists it, whose status shows
        // that file's problems (a Location listing 10,000 files is named once, not 10,000 times).
        let mut parent_of: HashMap<String, Arc<str>> =
            HashMap::from([(root.key(), generated.entity_ref.as_str().into())]);
        result.entities.push(generated);
        // Files are read in queue order and their results taken in that order, so errors and the
        // entity kept of a duplicate do not depend on which read finished first.
        let mut reading = FuturesOrdered::new();
        let (mut bytes_read, mut files_read): (u64, u64) = (0, 0);
        let mut in_flight = 0;
        loop {
            let small = files_read > 0 && bytes_read / files_read <= SMALL_FILE;
            let (at_once, per_batch) = if small {
                (SMALL_FILES_AT_ONCE, SMALL_FILES_PER_BATCH)
            } else {
                (FILES_AT_ONCE, 1)
            };
            while in_flight < at_once
                && let Some(batch) = next_batch(&mut queue, per_batch)
            {
                in_flight += batch.len();
                reading.push_back(self.read_batch(batch, root));
            }
            let Some(batch) = reading.next().await else {
                break;
            };
            in_flight -= batch.len();
            for (spec, file) in batch {
                let is_root = spec == *root;
                let key = spec.key();
                let (entities, errors) = match file {
                    FileOutcome::Parsed {
                        validators,
                        placeholder_validators,
                        entities,
                        errors,
                        size,
                    } => {
                        bytes_read = bytes_read.saturating_add(size as u64);
                        files_read += 1;
                        if bytes_read > self.limits.max_bytes {
                            return over_limit(format!(
                                "this location's files are more than {} bytes (catalog.max_bytes_per_location); nothing from this read was stored: split it into several locations",
                                self.limits.max_bytes
                            ));
                        }
                        result.validators.insert(key.clone(), validators);
                        result.validators.extend(placeholder_validators);
                        (entities, errors)
                    }
                    FileOutcome::NotModified => continue,
                    FileOutcome::Failed(e) => {
                        result.root_failed |= is_root;
                        result.problem(parent_of.get(&key).map(|p| &**p), &key, e.to_string());
                        continue;
                    }
                };
                if is_root && entities.is_empty() && !errors.is_empty() {
                    result.root_failed = true;
                }
                let parent = parent_of.get(&key).cloned();
                for e in errors {
                    result.problem(parent.as_deref(), &key, e);
                }
                for FileEntity {
                    processed,
                    location,
                } in entities
                {
                    if !seen_refs.insert(processed.entity_ref.clone()) {
                        result.problem(
                            parent.as_deref(),
                            &key,
                            format!(
                                "entity {} is defined more than once in this location",
                                processed.entity_ref
                            ),
                        );
                        continue;
                    }
                    if let Some(location) = location {
                        let this: Arc<str> = processed.entity_ref.as_str().into();
                        for nested in self.normalised_targets(location, &spec).await {
                            let nested = match nested {
                                Ok(n) => n,
                                Err(e) => {
                                    result.problem(Some(&this), &key, e.to_string());
                                    continue;
                                }
                            };
                            let nested_key = nested.key();
                            if parent_of.contains_key(&nested_key) {
                                result.problem(Some(&this), &key, format!(
                                    "{nested_key} is already part of this location (a cycle or a duplicate listing); it is read once"
                                ));
                                continue;
                            }
                            parent_of.insert(nested_key.clone(), this.clone());
                            if parent_of.len() > MAX_FILES {
                                result.problem(Some(&this), &key, format!(
                                    "more than {MAX_FILES} files reached from one location; {nested_key} and later targets are skipped"
                                ));
                                continue;
                            }
                            queue.push_back((nested, None));
                        }
                    }
                    result.entities.push(processed);
                }
            }
            if result.entities.len() > self.limits.max_entities {
                return over_limit(format!(
                    "this location has more than {} entities (catalog.max_entities_per_location); nothing from this read was stored: split it into several locations",
                    self.limits.max_entities
                ));
            }
        }
        result.attach_problems();
        result
    }

    /// The targets of a Location entity read from `spec`, in canonical form, made on a blocking
    /// thread (canonicalising a path is system calls; a Location may list 10,000 files).
    async fn normalised_targets(
        &self,
        location: Entity,
        spec: &LocationSpec,
    ) -> Vec<Result<LocationSpec, ReadError>> {
        let (this, spec) = (self.clone(), spec.clone());
        tokio::task::spawn_blocking(move || {
            nested_targets(&location, &spec, &this.reader)
                .into_iter()
                .map(|n| n.and_then(|n| this.normalise(n)))
                .collect()
        })
        .await
        .unwrap_or_else(|e| {
            vec![Err(ReadError::Failed(
                "file",
                format!("reading failed: {e}"),
            ))]
        })
    }

    /// The canonical form of a target (file paths canonicalised below the roots).
    pub fn normalise(&self, spec: LocationSpec) -> Result<LocationSpec, ReadError> {
        match spec.kind {
            LocationType::File => {
                let path = self.reader.canonical_file(&spec.target)?;
                Ok(LocationSpec {
                    kind: LocationType::File,
                    target: path.display().to_string(),
                })
            }
            LocationType::Url => Ok(spec),
        }
    }
}

/// The result of a tree that went past a limit: nothing but the reason (what was read is
/// dropped with the caller's state, files still being read included).
fn over_limit(reason: String) -> TreeResult {
    TreeResult {
        over_limit: Some(reason),
        ..TreeResult::default()
    }
}

/// The non-empty documents of one file, each with its 1-based index in the file.
struct Documents {
    documents: Vec<(usize, Value)>,
    /// The file has more than one document (errors then name the document).
    several: bool,
}

impl Documents {
    fn label_of(several: bool, target: &str, index: usize) -> String {
        let name = file_name(target);
        if several {
            format!("Invalid {name} (document {index})")
        } else {
            format!("Invalid {name}")
        }
    }
}

/// The documents of one file of `spec`, or why it cannot be parsed.
fn documents_of(bytes: &[u8], spec: &LocationSpec) -> Result<Documents, String> {
    let documents =
        parse_documents(bytes).map_err(|e| format!("Invalid {}: {e}", file_name(&spec.target)))?;
    Ok(Documents {
        several: documents.len() > 1,
        documents,
    })
}

/// A valid entity of a file, in the form it is stored in.
struct FileEntity {
    processed: ProcessedEntity,
    /// The entity itself when it is a Location, whose targets are read next.
    location: Option<Entity>,
}

impl FileEntity {
    fn new(entity: Entity, mut relations: Vec<Relation>) -> FileEntity {
        // Held for every entity of the tree until it is stored: without the room left by
        // growing them (up to half of each), 50,000 entities take about 25 MB less.
        let mut processed = serde_json::to_string(&entity).unwrap_or_default();
        processed.shrink_to_fit();
        relations.shrink_to_fit();
        let is_location = entity.get("kind").and_then(Value::as_str) == Some("Location");
        FileEntity {
            processed: ProcessedEntity {
                entity_ref: EntityRef::of(&entity).to_string(),
                hash: processed_hash(&processed),
                relations,
                processed,
            },
            location: is_location.then_some(entity),
        }
    }
}
