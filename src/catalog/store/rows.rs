//! The statements that store entities: entity rows in their served form, their processed form,
//! their search rows and the relation rows they originate, many rows per statement. Statements
//! are built (stitched, and bound for the database) on a blocking thread while the database runs
//! the previous chunk's; each chunk's entities are freed once its statements are made.

use std::collections::HashMap;

use super::ProcessedEntity;
use super::dialect::CatalogSql;
use crate::catalog::relations::Relation;
use crate::catalog::search::SearchRow;
use crate::catalog::stitch::{Stitched, stitch};
use crate::clock::{Clock, SystemClock};
use crate::db::sql::{Bound, Param, SqlBuilder, Statement};

/// Refs, uids and rows per statement: well under both backends' parameter limits.
pub(super) const CHUNK: usize = 500;

/// Processed JSON per chunk of changed entities, at most (past a chunk's first entity): a chunk's
/// statements are made and held at once, and where [`CHUNK`] entities of 1 KB are half a megabyte,
/// a Location entity listing 10,000 targets is one megabyte by itself, with 10,000 search rows.
const CHUNK_BYTES: usize = 1 << 20;

/// `changed`, in order, in chunks of at most [`CHUNK`] entities and [`CHUNK_BYTES`] of processed
/// JSON. Each chunk owns its entities, so what one holds is freed once it is stored.
pub(super) fn chunks(changed: Vec<Changed>) -> impl Iterator<Item = Vec<Changed>> {
    let mut rest = changed.into_iter().peekable();
    std::iter::from_fn(move || {
        let mut chunk = Vec::new();
        let mut bytes = 0;
        while let Some(next) = rest.peek()
            && chunk.len() < CHUNK
            && (chunk.is_empty() || bytes + next.entity.processed.len() <= CHUNK_BYTES)
        {
            bytes += next.entity.processed.len();
            chunk.extend(rest.next());
        }
        (!chunk.is_empty()).then_some(chunk)
    })
}

/// Rows (or list items) below which a statement stays prepared whatever its count: its text is
/// short, and counts this small come again.
const FEW: usize = 16;

/// `statement` of `count` rows, kept prepared only when that count comes again: a full chunk
/// (`full` rows), or a few. The last, shorter statement of a chunked list or insert rarely
/// recurs, and such a statement (thousands of parameters, 100 KB prepared) would push out of
/// the connection's 100 prepared statements one that runs again.
pub(super) fn sized(statement: Statement, count: usize, full: usize) -> Statement {
    if count == full || count <= FEW {
        statement
    } else {
        statement.once()
    }
}

/// `<head> ($1, $2, ...)` over `items`, kept prepared when the list is of [`CHUNK`] items or a
/// few (see [`sized`]).
pub(super) fn in_list<T>(head: &str, items: impl IntoIterator<Item = T>) -> Statement
where
    T: Into<Param>,
{
    let mut sql = SqlBuilder::new(head);
    sql.push(" (");
    let mut count = 0;
    for item in items {
        if count > 0 {
            sql.push(", ");
        }
        sql.push_bind(item);
        count += 1;
    }
    sql.push(")");
    sized(sql.finish(), count, CHUNK)
}

/// Appends `VALUES (...), (...)` over `rows`, each row's values given by `values`.
pub(super) fn push_values<T, const N: usize>(
    sql: &mut SqlBuilder,
    rows: impl IntoIterator<Item = T>,
    mut values: impl FnMut(T) -> [Param; N],
) {
    sql.push("VALUES ");
    for (i, row) in rows.into_iter().enumerate() {
        sql.push(if i > 0 { ", (" } else { "(" });
        for (j, value) in values(row).into_iter().enumerate() {
            if j > 0 {
                sql.push(", ");
            }
            sql.push_bind(value);
        }
        sql.push(")");
    }
}

/// `<head> VALUES (...), (...)` over `rows`, `per_statement` rows per statement; a shorter last
/// statement is kept prepared only if it has a few rows (see [`sized`]).
pub(super) fn inserts<T, const N: usize>(
    head: &str,
    rows: impl IntoIterator<Item = T>,
    per_statement: usize,
    mut values: impl FnMut(T) -> [Param; N],
) -> Vec<Statement> {
    let mut rows = rows.into_iter().peekable();
    let mut statements = Vec::new();
    while rows.peek().is_some() {
        let mut sql = SqlBuilder::new(head);
        let mut count = 0;
        push_values(
            &mut sql,
            rows.by_ref().take(per_statement).inspect(|_| count += 1),
            &mut values,
        );
        statements.push(sized(sql.finish(), count, per_statement));
    }
    statements
}

/// The inserts of `(entity id, row)` search rows. The original value is stored only where it
/// differs from the lower-cased one (NULL means the same), as most values are written in lower
/// case already.
pub(super) fn search_inserts<DB: CatalogSql>(
    rows: impl IntoIterator<Item = (i64, SearchRow)>,
) -> Vec<Statement> {
    let head = format!(
        "{} catalog_search (entity_id, key, value, original_value) ",
        DB::INSERT_ROWS
    );
    inserts(&head, rows, 2 * CHUNK, |(id, row)| {
        let original = row.original.filter(|o| Some(o) != row.value.as_ref());
        [id.into(), row.key.into(), row.value.into(), original.into()]
    })
}

/// An entity of a replace that is new or whose processed form changed: held for every such
/// entity until its chunk is stored, so kept small (a new entity gets its uid when stitched).
pub(super) struct Changed {
    pub id: i64,
    /// The stored uid and etag, for an entity already stored.
    pub stored: Option<Box<(String, String)>>,
    pub entity: ProcessedEntity,
}

impl Changed {
    /// The relations it originates whose source is itself (`ownedBy`).
    fn own(&self) -> impl Iterator<Item = &Relation> {
        let own = self.entity.entity_ref.as_str();
        self.entity
            .relations
            .iter()
            .filter(move |r| &*r.source == own)
    }

    /// The relations it originates whose source is another entity (`ownerOf` for its owner).
    pub fn for_others(&self) -> impl Iterator<Item = &Relation> {
        let own = self.entity.entity_ref.as_str();
        self.entity
            .relations
            .iter()
            .filter(move |r| &*r.source != own)
    }
}

/// The relation rows whose source is a changed entity, besides those it originates itself: rows
/// other entities keep in the database, and rows the changed entities bring for each other
/// (copies sharing their refs, so a chunk's entities are freed while later chunks still need the
/// relations they bring).
pub(super) struct Incoming {
    pub kept: HashMap<String, Vec<(String, String)>>,
    /// Sorted by source.
    pub brought: Vec<Relation>,
}

/// A changed entity with every relation whose source it is, to be stitched on another thread.
struct Stitching {
    changed: Changed,
    relations: Vec<(String, String)>,
}

/// Stitches and binds the statements of `chunk` on a blocking thread, so the next chunk is made
/// ready while the database runs this one.
pub(super) fn prepare_changed<DB: CatalogSql>(
    location_id: &str,
    chunk: Vec<Changed>,
    incoming: &mut Incoming,
) -> tokio::task::JoinHandle<Vec<Bound<DB>>> {
    let chunk: Vec<Stitching> = chunk
        .into_iter()
        .map(|changed| {
            let mut relations = incoming
                .kept
                .remove(&changed.entity.entity_ref)
                .unwrap_or_default();
            let entity_ref = changed.entity.entity_ref.as_str();
            let from = incoming
                .brought
                .partition_point(|r| &*r.source < entity_ref);
            let brought = incoming.brought[from..]
                .iter()
                .take_while(|r| &*r.source == entity_ref);
            relations.extend(
                changed
                    .own()
                    .chain(brought)
                    .map(|r| (r.kind.to_owned(), r.target.to_string())),
            );
            Stitching { changed, relations }
        })
        .collect();
    let location_id = location_id.to_owned();
    tokio::task::spawn_blocking(move || {
        changed_statements::<DB>(&location_id, chunk, now_ms())
            .into_iter()
            .map(Statement::bound::<DB>)
            .collect()
    })
}

/// Milliseconds since the Unix epoch: when an entity's served form changed.
pub(super) fn now_ms() -> i64 {
    i64::try_from(SystemClock.now().as_millis()).unwrap_or(i64::MAX)
}

/// The statements that store changed entities in their served form: the entity rows, their
/// search rows (replaced where the served form changed) and the relation rows they originate.
/// `now` is when this change is made (milliseconds since the Unix epoch): the `changed_at` of
/// every entity whose served form is new or changed.
fn changed_statements<DB: CatalogSql>(
    location_id: &str,
    chunk: Vec<Stitching>,
    now: i64,
) -> Vec<Statement> {
    let mut statements = Vec::new();
    let mut new = Vec::new();
    let mut new_processed = Vec::new();
    let mut relations = Vec::new();
    let mut rows = Vec::new();
    let mut reserved = Vec::new();
    for Stitching {
        changed: c,
        relations: stitched,
    } in chunk
    {
        let (uid, old_etag) = match c.stored {
            Some(stored) => (stored.0, Some(stored.1)),
            None => (uuid::Uuid::new_v4().to_string(), None),
        };
        let Stitched {
            body,
            etag,
            rows: search,
        } = stitch(&c.entity.processed, &uid, stitched);
        let ProcessedEntity {
            entity_ref,
            processed,
            hash,
            relations: brought,
        } = c.entity;
        relations.extend(brought.into_iter().map(|r| (c.id, r)));
        match old_etag {
            None => {
                rows.extend(search.into_iter().map(|row| (c.id, row)));
                new.push((c.id, uid, entity_ref, hash, body, etag));
                new_processed.push((c.id, processed));
            }
            Some(old_etag) => {
                let served_changed = old_etag != etag;
                statements.push(
                    Statement::new(
                        "UPDATE catalog_processed SET processed = $1 WHERE entity_id = $2",
                    )
                    .bind(processed)
                    .bind(c.id),
                );
                // `changed_at` moves only when what is served changes (NULL keeps it).
                statements.push(
                    Statement::new(
                        "UPDATE catalog_entities SET processed_hash = $1, body = $2, etag = $3, \
                         changed_at = COALESCE($4, changed_at) WHERE id = $5",
                    )
                    .bind(hash)
                    .bind(body)
                    .bind(etag)
                    .bind(served_changed.then_some(now))
                    .bind(c.id),
                );
                if served_changed {
                    rows.extend(search.into_iter().map(|row| (c.id, row)));
                    reserved.push(c.id);
                }
            }
        }
    }
    statements.extend(inserts(
        "INSERT INTO catalog_entities \
         (id, uid, entity_ref, location_id, processed_hash, body, etag, changed_at) ",
        new,
        CHUNK,
        |(id, uid, entity_ref, hash, body, etag)| {
            [
                id.into(),
                uid.into(),
                entity_ref.into(),
                location_id.into(),
                hash.into(),
                body.into(),
                etag.into(),
                now.into(),
            ]
        },
    ));
    statements.extend(inserts(
        &format!(
            "{} catalog_processed (entity_id, processed) ",
            DB::INSERT_ROWS
        ),
        new_processed,
        2 * CHUNK,
        |(id, processed)| [id.into(), processed.into()],
    ));
    if !reserved.is_empty() {
        statements.push(in_list(
            "DELETE FROM catalog_search WHERE entity_id IN",
            reserved,
        ));
    }
    statements.extend(search_inserts::<DB>(rows));
    statements.extend(inserts(
        &format!(
            "{} catalog_relations (originator_id, source_ref, type, target_ref) ",
            DB::INSERT_ROWS
        ),
        relations,
        2 * CHUNK,
        |(id, r)| {
            [
                id.into(),
                r.source.to_string().into(),
                r.kind.into(),
                r.target.to_string().into(),
            ]
        },
    ));
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(id: i64, bytes: usize) -> Changed {
        Changed {
            id,
            stored: None,
            entity: ProcessedEntity {
                entity_ref: format!("component:default/c{id}"),
                processed: "x".repeat(bytes),
                hash: String::new(),
                relations: Vec::new(),
            },
        }
    }

    fn sizes(changed: Vec<Changed>) -> Vec<Vec<i64>> {
        chunks(changed)
            .map(|chunk| chunk.iter().map(|c| c.id).collect())
            .collect()
    }

    #[test]
    fn chunks_end_at_their_count_or_their_bytes_and_keep_the_order() {
        let many: Vec<Changed> = (0..1_201).map(|id| changed(id, 100)).collect();
        let lengths: Vec<usize> = sizes(many).iter().map(Vec::len).collect();
        assert_eq!(lengths, [CHUNK, CHUNK, 201]);

        // A Location listing 10,000 files is a megabyte by itself: alone in its chunk, and the
        // small entities after it start the next one.
        let mixed = vec![
            changed(1, 100),
            changed(2, CHUNK_BYTES + 1),
            changed(3, CHUNK_BYTES / 2),
            changed(4, CHUNK_BYTES / 2),
            changed(5, 1),
        ];
        assert_eq!(sizes(mixed), [vec![1], vec![2], vec![3, 4], vec![5]]);
        assert!(sizes(Vec::new()).is_empty());
    }
}
