//! SQL shared by both backends (sqlx binds `$N` on SQLite too): the query builder for filters,
//! order and pages, and [`impl_catalog_store!`], which implements the store trait over a pool.

use crate::catalog::filter::{Condition, Filter};
use crate::catalog::store::{DefaultOrder, EntityQuery};

/// A bound parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Text(String),
    Int(i64),
}

/// SQL text with its parameters, numbered `$1..`.
#[derive(Debug, Default)]
pub struct Sql {
    pub text: String,
    pub binds: Vec<Bind>,
}

impl Sql {
    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }
}

/// `id_column IN (...)` conditions for `filter` (`id_column` holds entity ids), or
/// `TRUE`-equivalent when it is empty.
pub fn filter_condition(sql: &mut Sql, filter: &Filter, id_column: &str) -> String {
    if filter.any_of.is_empty() {
        return "1 = 1".into();
    }
    let mut sets = Vec::new();
    for set in &filter.any_of {
        let parts: Vec<String> = set
            .iter()
            .map(|(key, condition)| match condition {
                Condition::Not(inner) => match rows_matching(sql, key, inner) {
                    Some(rows) => format!("{id_column} NOT IN ({rows})"),
                    None => "1 = 1".into(),
                },
                positive => match rows_matching(sql, key, positive) {
                    Some(rows) => format!("{id_column} IN ({rows})"),
                    None => "1 = 0".into(),
                },
            })
            .collect();
        sets.push(format!("({})", parts.join(" AND ")));
    }
    format!("({})", sets.join(" OR "))
}

/// `SELECT entity_id ...` of the entities with a row of `key` satisfying `condition` (not a
/// `Not`), or `None` when no entity can (an empty value list).
fn rows_matching(sql: &mut Sql, key: &str, condition: &Condition) -> Option<String> {
    let key = sql.bind(Bind::Text(key.to_owned()));
    let rows = format!("SELECT entity_id FROM catalog_search WHERE key = {key}");
    match condition {
        Condition::In(values) if values.is_empty() => None,
        Condition::In(values) => {
            let values: Vec<String> = values
                .iter()
                .map(|v| sql.bind(Bind::Text(v.clone())))
                .collect();
            Some(format!("{rows} AND value IN ({})", values.join(", ")))
        }
        Condition::Prefix(prefix) => {
            let pattern = sql.bind(Bind::Text(format!("{}%", like_escaped(prefix))));
            Some(format!("{rows} AND value LIKE {pattern} ESCAPE '\\'"))
        }
        Condition::Exists | Condition::Not(_) => Some(rows),
    }
}

/// `text` with LIKE's wildcards escaped (escape character `\`).
fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// `SELECT uid, body, sort_value ...` (or `SELECT COUNT(*)` when `count`) for `query`.
pub fn entity_query(query: &EntityQuery, count: bool) -> Sql {
    let mut sql = Sql::default();
    let mut columns = String::from("e.uid");
    let mut sort_columns = Vec::new();
    for (i, (key, _)) in query.order.iter().enumerate() {
        let key = sql.bind(Bind::Text(key.clone()));
        columns.push_str(&format!(
            ", (SELECT MIN(s.value) FROM catalog_search s WHERE s.entity_id = e.id AND s.key = {key}) AS sv{i}"
        ));
        sort_columns.push(format!("sv{i}"));
    }
    if sort_columns.is_empty() {
        columns.push_str(", NULL AS sv0");
    }
    columns.push_str(", e.entity_ref");
    // `+e.id` keeps SQLite from looking the matches up by id, so it walks the order's index.
    let id_column = if query.many_matches && query.order.is_empty() {
        "+e.id"
    } else {
        "e.id"
    };
    let mut conditions = vec![filter_condition(&mut sql, &query.filter, id_column)];
    if let Some((term, keys)) = &query.full_text {
        let pattern = format!("%{}%", like_escaped(term));
        let pattern = sql.bind(Bind::Text(pattern));
        let keys: Vec<String> = keys
            .iter()
            .map(|k| sql.bind(Bind::Text(k.clone())))
            .collect();
        conditions.push(format!(
            "e.id IN (SELECT entity_id FROM catalog_search WHERE key IN ({}) AND value LIKE {pattern} ESCAPE '\\')",
            keys.join(", ")
        ));
    }
    let inner = format!(
        "SELECT {columns} FROM catalog_entities e WHERE {}",
        conditions.join(" AND ")
    );
    let mut outer = Vec::new();
    if query.require_order_value && !query.order.is_empty() {
        outer.push("sv0 IS NOT NULL".to_owned());
    }
    if let Some((value, uid)) = &query.after {
        let uid = sql.bind(Bind::Text(uid.clone()));
        // Forwards: later in the order; backwards: earlier (values missing sort last).
        let (later, earlier) = if query.backwards {
            ("<", ">")
        } else {
            (">", "<")
        };
        match (query.order.first(), value) {
            (Some((_, desc)), Some(value)) => {
                let value = sql.bind(Bind::Text(value.clone()));
                let cmp = if *desc { earlier } else { later };
                let missing = if query.backwards {
                    ""
                } else {
                    " OR sv0 IS NULL"
                };
                outer.push(format!(
                    "(sv0 {cmp} {value} OR (sv0 = {value} AND uid {later} {uid}){missing})"
                ));
            }
            (Some(_), None) if query.backwards => {
                outer.push(format!("(sv0 IS NOT NULL OR uid < {uid})"));
            }
            (Some(_), None) => outer.push(format!("(sv0 IS NULL AND uid > {uid})")),
            (None, _) => outer.push(format!("uid {later} {uid}")),
        }
    }
    let where_outer = if outer.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", outer.join(" AND "))
    };
    if count {
        sql.text = format!("SELECT COUNT(*) FROM ({inner}) q{where_outer}");
        return sql;
    }
    let (asc, desc) = if query.backwards {
        ("DESC", "ASC")
    } else {
        ("ASC", "DESC")
    };
    let order_by = |prefix: &str| {
        let mut order: Vec<String> = query
            .order
            .iter()
            .enumerate()
            .map(|(i, (_, descending))| {
                format!(
                    "CASE WHEN {prefix}sv{i} IS NULL THEN 1 ELSE 0 END {asc}, {prefix}sv{i} {}",
                    if *descending { desc } else { asc }
                )
            })
            .collect();
        order.push(match (query.order.is_empty(), query.default_order) {
            (true, DefaultOrder::EntityRef) => format!("{prefix}entity_ref {asc}"),
            _ => format!("{prefix}uid {asc}"),
        });
        order.join(", ")
    };
    // Rows are chosen and ordered on uids and sort keys only; bodies are joined for the page alone,
    // so a large match set is never sorted with its JSON.
    let sort_values = if sort_columns.is_empty() {
        "sv0".to_owned()
    } else {
        sort_columns.join(", ")
    };
    let mut page = format!(
        "SELECT uid, entity_ref, {sort_values} FROM ({inner}) q{where_outer} ORDER BY {}",
        order_by("")
    );
    if let Some(limit) = query.limit {
        page.push_str(&format!(" LIMIT {limit}"));
    } else if query.offset > 0 {
        page.push_str(" LIMIT 9223372036854775807");
    }
    if query.offset > 0 {
        page.push_str(&format!(" OFFSET {}", query.offset));
    }
    let outer_order = order_by("p.");
    sql.text = format!(
        "SELECT p.uid AS uid, b.body AS body, p.sv0 AS sort_value FROM ({page}) p \
         JOIN catalog_entities b ON b.uid = p.uid ORDER BY {outer_order}"
    );
    sql
}

/// Implements [`crate::catalog::store::CatalogStore`] for `$store` (a struct with a `pool` field
/// of database `$db`). The SQL is the same for both backends; `$begin` starts a write transaction
/// (SQLite needs `BEGIN IMMEDIATE` so concurrent writers wait instead of failing on upgrade);
/// `$insert_rows` starts the multi-row inserts of relation and search rows (on SQLite
/// `INSERT OR IGNORE INTO`: with no constraint able to abort them, as their entity checks are
/// deferred, SQLite skips the statement journal; nothing in those rows can conflict); `$new_ids`
/// selects `$1` unused entity ids, inside the write transaction.
macro_rules! impl_catalog_store {
    ($store:ty, $db:ty, $begin:expr, $insert_rows:literal, $new_ids:literal) => {
        const _: () = {
            use std::collections::{BTreeSet, HashMap};

            use async_trait::async_trait;
            use sqlx::Row;

            use $crate::catalog::filter::Filter;
            use $crate::catalog::model::{Location, LocationSpec, LocationStatus, LocationType};
            use $crate::catalog::store::sql::{self, Bind};
            use $crate::catalog::store::{
                CatalogStore, EntityQuery, EntityRow, LocationResult, NewLocation,
                ProcessedEntity, ReplaceOutcome,
            };
            use $crate::catalog::read::Validators;
            use $crate::catalog::relations::Relation;
            use $crate::catalog::search::SearchRow;
            use $crate::catalog::stitch::{Stitched, stitch};
            use $crate::db::StoreError;

            type Tx<'a> = sqlx::Transaction<'a, $db>;

            const LOCATION_COLUMNS: &str =
                "id, type, target, status, errors, last_refreshed_at, next_refresh_at, created_at";

            fn location(row: &<$db as sqlx::Database>::Row) -> Result<Location, sqlx::Error> {
                let kind: String = row.try_get("type")?;
                let errors: String = row.try_get("errors")?;
                Ok(Location {
                    id: row.try_get("id")?,
                    spec: LocationSpec {
                        kind: LocationType::parse(&kind).unwrap_or(LocationType::Url),
                        target: row.try_get("target")?,
                    },
                    status: LocationStatus::parse(&row.try_get::<String, _>("status")?),
                    errors: serde_json::from_str(&errors).unwrap_or_default(),
                    last_refreshed_at: row.try_get("last_refreshed_at")?,
                    next_refresh_at: row.try_get("next_refresh_at")?,
                    created_at: row.try_get("created_at")?,
                })
            }

            fn bound<'q>(
                sql: &'q sql::Sql,
            ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments> {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.text.clone()));
                for bind in &sql.binds {
                    query = match bind {
                        Bind::Text(s) => query.bind(s.clone()),
                        Bind::Int(i) => query.bind(*i),
                    };
                }
                query
            }

            const SEARCH_INSERT: &str =
                concat!($insert_rows, " catalog_search (entity_id, key, value, original_value) ");
            const RELATION_INSERT: &str =
                concat!($insert_rows, " catalog_relations (originator_id, source_ref, type, target_ref) ");

            /// Refs, uids and rows per statement: well under both backends' parameter limits.
            const CHUNK: usize = 500;

            /// `<head> ($1, $2, ...)` over `items`.
            fn in_list<'t, T>(head: &str, items: &'t [T]) -> sqlx::QueryBuilder<$db>
            where
                T: sqlx::Encode<'t, $db> + sqlx::Type<$db> + Copy + 't,
            {
                let mut query = sqlx::QueryBuilder::<$db>::new(head);
                query.push(" (");
                let mut list = query.separated(", ");
                for item in items {
                    list.push_bind(*item);
                }
                query.push(")");
                query
            }

            /// Re-serves the entities with these refs from their processed form and every
            /// relation row whose source they are, in chunks: an entity whose served form did not
            /// change (same etag) is left as it is.
            async fn restitch(tx: &mut Tx<'_>, refs: &BTreeSet<String>) -> Result<(), sqlx::Error> {
                let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
                for chunk in refs.chunks(CHUNK) {
                    let entities: Vec<(i64, String, String, String, String)> = in_list(
                        "SELECT e.id, e.uid, e.entity_ref, p.processed, e.etag FROM catalog_entities e \
                         JOIN catalog_processed p ON p.entity_id = e.id WHERE e.entity_ref IN",
                        chunk,
                    )
                    .build_query_as()
                    .fetch_all(&mut **tx)
                    .await?;
                    let mut by_source = kept_relations(tx, chunk).await?;
                    let served: Vec<(i64, Stitched)> = entities
                        .into_iter()
                        .filter_map(|(id, uid, entity_ref, processed, etag)| {
                            let relations = by_source.remove(&entity_ref).unwrap_or_default();
                            let served = stitch(&processed, &uid, relations);
                            (served.etag != etag).then_some((id, served))
                        })
                        .collect();
                    if served.is_empty() {
                        continue;
                    }
                    let mut update = sqlx::QueryBuilder::<$db>::new(
                        "UPDATE catalog_entities SET body = v.column2, etag = v.column3 FROM (",
                    );
                    update.push_values(&served, |mut row, (id, s)| {
                        row.push_bind(*id).push_bind(&s.body).push_bind(&s.etag);
                    });
                    update.push(") AS v WHERE catalog_entities.id = v.column1");
                    update.build().execute(&mut **tx).await?;
                    let ids: Vec<i64> = served.iter().map(|(id, _)| *id).collect();
                    in_list("DELETE FROM catalog_search WHERE entity_id IN", &ids)
                        .build()
                        .execute(&mut **tx)
                        .await?;
                    let rows = served
                        .into_iter()
                        .flat_map(|(id, s)| s.rows.into_iter().map(move |row| (id, row)));
                    for mut insert in search_inserts(rows) {
                        insert.build().execute(&mut **tx).await?;
                    }
                }
                Ok(())
            }

            /// An entity of a replace that is new or whose processed form changed.
            struct Changed<'a> {
                id: i64,
                uid: String,
                /// The stored etag, for an entity already stored.
                old_etag: Option<String>,
                entity: &'a ProcessedEntity,
            }

            /// `(type, target)` of the relation rows whose source is one of `refs`, by source.
            async fn kept_relations(
                tx: &mut Tx<'_>,
                refs: &[&str],
            ) -> Result<HashMap<String, Vec<(String, String)>>, sqlx::Error> {
                let mut by_source: HashMap<String, Vec<(String, String)>> = HashMap::new();
                for chunk in refs.chunks(CHUNK) {
                    let rows: Vec<(String, String, String)> = in_list(
                        "SELECT source_ref, type, target_ref FROM catalog_relations WHERE source_ref IN",
                        chunk,
                    )
                    .build_query_as()
                    .fetch_all(&mut **tx)
                    .await?;
                    for (source, kind, target) in rows {
                        by_source.entry(source).or_default().push((kind, target));
                    }
                }
                Ok(by_source)
            }

            /// The relation rows whose source is a changed entity, by source: rows other entities
            /// keep in the database, and rows the changed entities bring (borrowed from them).
            struct Incoming<'a> {
                kept: HashMap<String, Vec<(String, String)>>,
                /// `(source, relation)`, sorted by source.
                brought: Vec<(&'a str, &'a Relation)>,
            }

            /// A changed entity with its relations, owned so it can be stitched on another thread.
            struct Stitching {
                id: i64,
                uid: String,
                old_etag: Option<String>,
                entity: ProcessedEntity,
                relations: Vec<(String, String)>,
            }

            /// Stitches and binds the statements of `chunk` on a blocking thread, so the next chunk
            /// is made ready while the database runs this one.
            fn prepare_changed(
                location_id: &str,
                chunk: &[Changed<'_>],
                incoming: &mut Incoming<'_>,
            ) -> tokio::task::JoinHandle<Vec<sqlx::QueryBuilder<$db>>> {
                let chunk: Vec<Stitching> = chunk
                    .iter()
                    .map(|c| {
                        let mut relations = incoming.kept.remove(&c.entity.entity_ref).unwrap_or_default();
                        let entity_ref = c.entity.entity_ref.as_str();
                        let from = incoming.brought.partition_point(|(source, _)| *source < entity_ref);
                        relations.extend(
                            incoming.brought[from..]
                                .iter()
                                .take_while(|(source, _)| *source == entity_ref)
                                .map(|(_, r)| (r.kind.to_owned(), r.target.to_string())),
                        );
                        Stitching {
                            id: c.id,
                            uid: c.uid.clone(),
                            old_etag: c.old_etag.clone(),
                            entity: c.entity.clone(),
                            relations,
                        }
                    })
                    .collect();
                let location_id = location_id.to_owned();
                tokio::task::spawn_blocking(move || changed_statements(&location_id, chunk))
            }

            /// The statements that store changed entities in their served form: the entity rows,
            /// their search rows (replaced where the served form changed) and the relation rows
            /// they originate.
            fn changed_statements(location_id: &str, chunk: Vec<Stitching>) -> Vec<sqlx::QueryBuilder<$db>> {
                let mut statements = Vec::new();
                let mut new = Vec::new();
                let mut new_processed = Vec::new();
                let mut relations = Vec::new();
                let mut rows = Vec::new();
                let mut reserved = Vec::new();
                for c in chunk {
                    let Stitched { body, etag, rows: search } = stitch(&c.entity.processed, &c.uid, c.relations);
                    relations.extend(c.entity.relations.iter().map(|r| (c.id, r.clone())));
                    let ProcessedEntity { entity_ref, processed, hash, .. } = c.entity;
                    match c.old_etag {
                        None => {
                            rows.extend(search.into_iter().map(|row| (c.id, row)));
                            new.push((c.id, c.uid, entity_ref, hash, body, etag));
                            new_processed.push((c.id, processed));
                        }
                        Some(old_etag) => {
                            let served_changed = old_etag != etag;
                            let mut update = sqlx::QueryBuilder::<$db>::new("UPDATE catalog_processed SET processed = ");
                            update.push_bind(processed).push(" WHERE entity_id = ").push_bind(c.id);
                            statements.push(update);
                            let mut update = sqlx::QueryBuilder::<$db>::new("UPDATE catalog_entities SET processed_hash = ");
                            update
                                .push_bind(hash)
                                .push(", body = ")
                                .push_bind(body)
                                .push(", etag = ")
                                .push_bind(etag)
                                .push(" WHERE id = ")
                                .push_bind(c.id);
                            statements.push(update);
                            if served_changed {
                                rows.extend(search.into_iter().map(|row| (c.id, row)));
                                reserved.push(c.id);
                            }
                        }
                    }
                }
                statements.extend(inserts(
                    "INSERT INTO catalog_entities (id, uid, entity_ref, location_id, processed_hash, body, etag) ",
                    new,
                    CHUNK,
                    |mut row, (id, uid, entity_ref, hash, body, etag)| {
                        row.push_bind(id)
                            .push_bind(uid)
                            .push_bind(entity_ref)
                            .push_bind(location_id.to_owned())
                            .push_bind(hash)
                            .push_bind(body)
                            .push_bind(etag);
                    },
                ));
                statements.extend(inserts(
                    concat!($insert_rows, " catalog_processed (entity_id, processed) "),
                    new_processed,
                    2 * CHUNK,
                    |mut row, (id, processed)| {
                        row.push_bind(id).push_bind(processed);
                    },
                ));
                if !reserved.is_empty() {
                    statements.push(in_list("DELETE FROM catalog_search WHERE entity_id IN", &reserved));
                }
                statements.extend(search_inserts(rows));
                statements.extend(inserts(RELATION_INSERT, relations, 2 * CHUNK, |mut b, (id, r)| {
                    b.push_bind(id)
                        .push_bind(r.source.to_string())
                        .push_bind(r.kind)
                        .push_bind(r.target.to_string());
                }));
                statements
            }

            /// The inserts of `(entity id, row)` search rows. The original value is stored only
            /// where it differs from the lower-cased one (NULL means the same), as most values are
            /// written in lower case already.
            fn search_inserts(rows: impl IntoIterator<Item = (i64, SearchRow)>) -> Vec<sqlx::QueryBuilder<$db>> {
                inserts(SEARCH_INSERT, rows, 2 * CHUNK, |mut b, (id, row)| {
                    let original = row.original.filter(|o| Some(o) != row.value.as_ref());
                    b.push_bind(id).push_bind(row.key).push_bind(row.value).push_bind(original);
                })
            }

            /// `<head> VALUES (...), (...)` over `rows`, `per_statement` rows per statement; the
            /// binds are owned, so the statements can be built on another thread.
            fn inserts<T>(
                head: &str,
                rows: impl IntoIterator<Item = T>,
                per_statement: usize,
                mut push: impl FnMut(sqlx::query_builder::Separated<'_, $db, &'static str>, T),
            ) -> Vec<sqlx::QueryBuilder<$db>> {
                let mut rows = rows.into_iter().peekable();
                let mut statements = Vec::new();
                while rows.peek().is_some() {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(head);
                    insert.push_values(rows.by_ref().take(per_statement), &mut push);
                    statements.push(insert);
                }
                statements
            }

            /// Every ref that relation rows originated by entities `ids` point from.
            async fn relation_sources(tx: &mut Tx<'_>, ids: &[i64]) -> Result<Vec<String>, sqlx::Error> {
                let mut sources = Vec::new();
                for chunk in ids.chunks(CHUNK) {
                    let found: Vec<String> = in_list(
                        "SELECT DISTINCT source_ref FROM catalog_relations WHERE originator_id IN",
                        chunk,
                    )
                    .build_query_scalar()
                    .fetch_all(&mut **tx)
                    .await?;
                    sources.extend(found);
                }
                Ok(sources)
            }

            /// Runs `<head> (ids)` in chunks (deletes by entity id).
            async fn for_ids(tx: &mut Tx<'_>, head: &str, ids: &[i64]) -> Result<(), sqlx::Error> {
                for chunk in ids.chunks(CHUNK) {
                    in_list(head, chunk).build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            #[async_trait]
            impl CatalogStore for $store {
                async fn create_location(&self, l: &NewLocation) -> Result<bool, StoreError> {
                    let done = sqlx::query(
                        "INSERT INTO catalog_locations (id, type, target, status, errors, created_at, next_refresh_at) \
                         VALUES ($1, $2, $3, 'processing', '[]', $4, $4) ON CONFLICT (type, target) DO NOTHING",
                    )
                    .bind(&l.id)
                    .bind(l.spec.kind.as_str())
                    .bind(&l.spec.target)
                    .bind(l.now)
                    .execute(&self.writer)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn update_location(
                    &self,
                    id: &str,
                    spec: &LocationSpec,
                    now: i64,
                ) -> Result<Option<bool>, StoreError> {
                    let done = sqlx::query(
                        "UPDATE catalog_locations SET type = $1, target = $2, status = 'processing', errors = '[]', \
                         validators = '{}', next_refresh_at = $3 WHERE id = $4",
                    )
                    .bind(spec.kind.as_str())
                    .bind(&spec.target)
                    .bind(now)
                    .bind(id)
                    .execute(&self.writer)
                    .await;
                    match done {
                        Ok(done) => Ok((done.rows_affected() == 1).then_some(true)),
                        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(Some(false)),
                        Err(e) => Err(e.into()),
                    }
                }

                async fn location(&self, id: &str) -> Result<Option<Location>, StoreError> {
                    let sql = format!("SELECT {LOCATION_COLUMNS} FROM catalog_locations WHERE id = $1");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
                    Ok(row.as_ref().map(location).transpose()?)
                }

                async fn location_by_spec(&self, spec: &LocationSpec) -> Result<Option<Location>, StoreError> {
                    let sql = format!("SELECT {LOCATION_COLUMNS} FROM catalog_locations WHERE type = $1 AND target = $2");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(spec.kind.as_str())
                        .bind(&spec.target)
                        .fetch_optional(&self.pool)
                        .await?;
                    Ok(row.as_ref().map(location).transpose()?)
                }

                async fn locations(&self) -> Result<Vec<Location>, StoreError> {
                    let sql = format!("SELECT {LOCATION_COLUMNS} FROM catalog_locations ORDER BY created_at, id");
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
                    Ok(rows.iter().map(location).collect::<Result<_, _>>()?)
                }

                async fn location_validators(&self, id: &str) -> Result<Validators, StoreError> {
                    let text: Option<String> =
                        sqlx::query_scalar("SELECT validators FROM catalog_locations WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&self.pool)
                            .await?;
                    Ok(text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default())
                }

                async fn due_locations(&self, now: i64, limit: i64) -> Result<Vec<Location>, StoreError> {
                    let sql = format!(
                        "SELECT {LOCATION_COLUMNS} FROM catalog_locations WHERE next_refresh_at <= $1 \
                         AND (status <> 'processing' OR next_refresh_at <= $3) ORDER BY next_refresh_at LIMIT $2"
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(now)
                        .bind(limit)
                        .bind(now - $crate::catalog::store::STALE_PROCESSING_MS)
                        .fetch_all(&self.pool)
                        .await?;
                    Ok(rows.iter().map(location).collect::<Result<_, _>>()?)
                }

                async fn schedule_location(&self, id: &str, now: i64) -> Result<(), StoreError> {
                    sqlx::query("UPDATE catalog_locations SET next_refresh_at = $1 WHERE id = $2")
                        .bind(now)
                        .bind(id)
                        .execute(&self.writer)
                        .await?;
                    Ok(())
                }

                async fn delete_location(&self, id: &str) -> Result<bool, StoreError> {
                    let mut tx = self.writer.begin_with($begin).await?;
                    let peers: Vec<String> = sqlx::query_scalar(
                        "SELECT DISTINCT r.source_ref FROM catalog_relations r \
                         JOIN catalog_entities e ON e.id = r.originator_id WHERE e.location_id = $1",
                    )
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
                    let done = sqlx::query("DELETE FROM catalog_locations WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    restitch(&mut tx, &peers.into_iter().collect()).await?;
                    tx.commit().await?;
                    self.counts.invalidate();
                    Ok(done.rows_affected() == 1)
                }

                async fn finish_location(&self, id: &str, r: &LocationResult) -> Result<(), StoreError> {
                    sqlx::query(
                        "UPDATE catalog_locations SET status = $1, errors = $2, validators = COALESCE($3, validators), \
                         last_refreshed_at = $4, next_refresh_at = $5 WHERE id = $6",
                    )
                    .bind(r.status.as_str())
                    .bind(serde_json::to_string(&r.errors).unwrap_or_else(|_| "[]".into()))
                    .bind(r.validators.as_ref().map(|v| serde_json::to_string(v).unwrap_or_else(|_| "{}".into())))
                    .bind(r.refreshed_at)
                    .bind(r.next_refresh_at)
                    .bind(id)
                    .execute(&self.writer)
                    .await?;
                    Ok(())
                }

                async fn replace_entities(
                    &self,
                    location_id: &str,
                    entities: &[ProcessedEntity],
                ) -> Result<ReplaceOutcome, StoreError> {
                    let mut tx = self.writer.begin_with($begin).await?;
                    let mut outcome = ReplaceOutcome::default();
                    let existing: Vec<(String, i64, String, String, String)> = sqlx::query_as(
                        "SELECT entity_ref, id, uid, processed_hash, etag FROM catalog_entities WHERE location_id = $1",
                    )
                    .bind(location_id)
                    .fetch_all(&mut *tx)
                    .await?;
                    let mut existing: HashMap<String, (i64, String, String, String)> =
                        existing.into_iter().map(|(r, i, u, h, e)| (r, (i, u, h, e))).collect();
                    let mut updated: Vec<Changed<'_>> = Vec::new();
                    let mut new: Vec<&ProcessedEntity> = Vec::new();
                    for entity in entities {
                        match existing.remove(&entity.entity_ref) {
                            Some((_, _, hash, _)) if hash == entity.hash => {}
                            Some((id, uid, _, etag)) => updated.push(Changed { id, uid, old_etag: Some(etag), entity }),
                            None => new.push(entity),
                        }
                    }
                    // New to this location, but another location owns them: left alone.
                    let mut owners: HashMap<String, String> = HashMap::new();
                    let new_refs: Vec<&str> = new.iter().map(|e| e.entity_ref.as_str()).collect();
                    for chunk in new_refs.chunks(CHUNK) {
                        let found: Vec<(String, String)> = in_list(
                            "SELECT e.entity_ref, l.target FROM catalog_entities e \
                             JOIN catalog_locations l ON l.id = e.location_id WHERE e.entity_ref IN",
                            chunk,
                        )
                        .build_query_as()
                        .fetch_all(&mut *tx)
                        .await?;
                        owners.extend(found);
                    }
                    let mut unowned: Vec<&ProcessedEntity> = Vec::new();
                    for entity in new {
                        match owners.get(&entity.entity_ref) {
                            Some(owner) => outcome.conflicts.push((entity.entity_ref.clone(), owner.clone())),
                            None => unowned.push(entity),
                        }
                    }
                    let ids: Vec<i64> = if unowned.is_empty() {
                        Vec::new()
                    } else {
                        sqlx::query_scalar($new_ids).bind(unowned.len() as i64).fetch_all(&mut *tx).await?
                    };
                    let inserted: Vec<Changed<'_>> = unowned
                        .into_iter()
                        .zip(ids)
                        .map(|(entity, id)| Changed { id, uid: uuid::Uuid::now_v7().to_string(), old_etag: None, entity })
                        .collect();
                    outcome.inserted = inserted.len();
                    outcome.updated = updated.len();
                    outcome.removed = existing.len();
                    // Entities outside the changed ones that gain, lose or change relations are
                    // re-served at the end.
                    let mut affected = BTreeSet::new();
                    let removed: Vec<i64> = existing.values().map(|(id, ..)| *id).collect();
                    affected.extend(relation_sources(&mut tx, &removed).await?);
                    for_ids(&mut tx, "DELETE FROM catalog_entities WHERE id IN", &removed).await?;
                    let updated_ids: Vec<i64> = updated.iter().map(|c| c.id).collect();
                    affected.extend(relation_sources(&mut tx, &updated_ids).await?);
                    for_ids(&mut tx, "DELETE FROM catalog_relations WHERE originator_id IN", &updated_ids).await?;
                    // Every changed entity is stored in its served form at once: its relations are
                    // the rows other entities keep plus the rows the changed entities bring.
                    let changed: Vec<Changed<'_>> = inserted.into_iter().chain(updated).collect();
                    let changed_refs: Vec<&str> = changed.iter().map(|c| c.entity.entity_ref.as_str()).collect();
                    let mut brought: Vec<(&str, &Relation)> = changed
                        .iter()
                        .flat_map(|c| c.entity.relations.iter().map(|r| (&*r.source, r)))
                        .collect();
                    brought.sort_unstable_by_key(|(source, _)| *source);
                    let changed_set: std::collections::HashSet<&str> = changed_refs.iter().copied().collect();
                    let mut peers: Vec<&str> = brought.iter().map(|(source, _)| *source).collect();
                    peers.dedup();
                    affected.extend(peers.into_iter().filter(|p| !changed_set.contains(p)).map(str::to_owned));
                    let mut incoming = Incoming {
                        kept: kept_relations(&mut tx, &changed_refs).await?,
                        brought,
                    };
                    let mut chunks = changed.chunks(CHUNK);
                    let mut next = chunks.next().map(|c| prepare_changed(location_id, c, &mut incoming));
                    while let Some(prepared) = next.take() {
                        let statements = prepared.await.map_err(|e| {
                            tracing::error!(error = %e, "preparing catalog rows failed");
                            sqlx::Error::WorkerCrashed
                        })?;
                        next = chunks.next().map(|c| prepare_changed(location_id, c, &mut incoming));
                        for mut statement in statements {
                            statement.build().execute(&mut *tx).await?;
                        }
                    }
                    affected.retain(|r| !changed_set.contains(r.as_str()));
                    restitch(&mut tx, &affected).await?;
                    tx.commit().await?;
                    self.counts.invalidate();
                    Ok(outcome)
                }

                async fn query(&self, query: &EntityQuery) -> Result<Vec<EntityRow>, StoreError> {
                    let sql = sql::entity_query(query, false);
                    let rows = bound(&sql).fetch_all(&self.pool).await?;
                    Ok(rows
                        .iter()
                        .map(|row| {
                            Ok(EntityRow {
                                uid: row.try_get("uid")?,
                                body: row.try_get("body")?,
                                sort_value: row.try_get("sort_value")?,
                            })
                        })
                        .collect::<Result<_, sqlx::Error>>()?)
                }

                async fn count(&self, query: &EntityQuery) -> Result<i64, StoreError> {
                    let sql = sql::entity_query(query, true);
                    let key = format!("{}{:?}", sql.text, sql.binds);
                    let generation = self.counts.generation();
                    if let Some(count) = self.counts.get(&key, generation) {
                        return Ok(count);
                    }
                    let row = bound(&sql).fetch_one(&self.pool).await?;
                    let count = row.try_get(0)?;
                    self.counts.put(key, generation, count);
                    Ok(count)
                }

                async fn by_refs(&self, refs: &[String]) -> Result<Vec<(String, String)>, StoreError> {
                    let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
                    let mut out = Vec::new();
                    for chunk in refs.chunks(CHUNK) {
                        let rows: Vec<(String, String)> =
                            in_list("SELECT entity_ref, body FROM catalog_entities WHERE entity_ref IN", chunk)
                                .build_query_as()
                                .fetch_all(&self.pool)
                                .await?;
                        out.extend(rows);
                    }
                    Ok(out)
                }

                async fn by_uid(&self, uid: &str) -> Result<Option<String>, StoreError> {
                    Ok(sqlx::query_scalar("SELECT body FROM catalog_entities WHERE uid = $1")
                        .bind(uid)
                        .fetch_optional(&self.pool)
                        .await?)
                }

                async fn owner_location(&self, entity_ref: &str) -> Result<Option<String>, StoreError> {
                    Ok(sqlx::query_scalar("SELECT location_id FROM catalog_entities WHERE entity_ref = $1")
                        .bind(entity_ref)
                        .fetch_optional(&self.pool)
                        .await?)
                }

                async fn delete_entity(&self, uid: &str) -> Result<(), StoreError> {
                    let mut tx = self.writer.begin_with($begin).await?;
                    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM catalog_entities WHERE uid = $1")
                        .bind(uid)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some(id) = id else {
                        return Ok(());
                    };
                    let peers = relation_sources(&mut tx, &[id]).await?;
                    sqlx::query("DELETE FROM catalog_entities WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    restitch(&mut tx, &peers.into_iter().collect()).await?;
                    tx.commit().await?;
                    self.counts.invalidate();
                    Ok(())
                }

                fn version(&self) -> Option<u64> {
                    self.counts.version()
                }

                async fn values_of(&self, keys: &[&str]) -> Result<Vec<(String, String, String)>, StoreError> {
                    let mut select = in_list(
                        "SELECT e.uid, s.key, COALESCE(s.original_value, s.value) FROM catalog_search s \
                         JOIN catalog_entities e ON e.id = s.entity_id WHERE s.value IS NOT NULL AND s.key IN",
                        keys,
                    );
                    Ok(select.build_query_as().fetch_all(&self.pool).await?)
                }

                async fn facet(&self, key: &str, filter: &Filter) -> Result<Vec<(String, i64)>, StoreError> {
                    let mut sql = sql::Sql::default();
                    sql.binds.push(Bind::Text(key.to_lowercase()));
                    let condition = sql::filter_condition(&mut sql, filter, "s.entity_id");
                    sql.text = format!(
                        "SELECT COALESCE(s.original_value, s.value) AS original, COUNT(DISTINCT s.entity_id) \
                         FROM catalog_search s WHERE s.key = $1 AND s.value IS NOT NULL AND {condition} \
                         GROUP BY original ORDER BY original"
                    );
                    let rows = bound(&sql).fetch_all(&self.pool).await?;
                    Ok(rows
                        .iter()
                        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                        .collect::<Result<_, sqlx::Error>>()?)
                }
            }
        };
    };
}
pub(crate) use impl_catalog_store;
