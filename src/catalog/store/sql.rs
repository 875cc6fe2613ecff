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

/// `uid_column IN (...)` conditions for `filter`, or `TRUE`-equivalent when it is empty.
pub fn filter_condition(sql: &mut Sql, filter: &Filter, uid_column: &str) -> String {
    if filter.any_of.is_empty() {
        return "1 = 1".into();
    }
    let mut sets = Vec::new();
    for set in &filter.any_of {
        let mut parts = Vec::new();
        for (key, condition) in set {
            let key = sql.bind(Bind::Text(key.clone()));
            match condition {
                Condition::Exists => parts.push(format!(
                    "{uid_column} IN (SELECT entity_uid FROM catalog_search WHERE key = {key})"
                )),
                Condition::In(values) => {
                    let values: Vec<String> = values
                        .iter()
                        .map(|v| sql.bind(Bind::Text(v.clone())))
                        .collect();
                    parts.push(format!(
                        "{uid_column} IN (SELECT entity_uid FROM catalog_search WHERE key = {key} AND value IN ({}))",
                        values.join(", ")
                    ));
                }
            }
        }
        sets.push(format!("({})", parts.join(" AND ")));
    }
    format!("({})", sets.join(" OR "))
}

/// `SELECT uid, body, sort_value ...` (or `SELECT COUNT(*)` when `count`) for `query`.
pub fn entity_query(query: &EntityQuery, count: bool) -> Sql {
    let mut sql = Sql::default();
    let mut columns = String::from("e.uid");
    let mut sort_columns = Vec::new();
    for (i, (key, _)) in query.order.iter().enumerate() {
        let key = sql.bind(Bind::Text(key.clone()));
        columns.push_str(&format!(
            ", (SELECT MIN(s.value) FROM catalog_search s WHERE s.entity_uid = e.uid AND s.key = {key}) AS sv{i}"
        ));
        sort_columns.push(format!("sv{i}"));
    }
    if sort_columns.is_empty() {
        columns.push_str(", NULL AS sv0");
    }
    columns.push_str(", e.entity_ref");
    let mut conditions = vec![filter_condition(&mut sql, &query.filter, "e.uid")];
    if let Some((term, keys)) = &query.full_text {
        let pattern = format!(
            "%{}%",
            term.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let pattern = sql.bind(Bind::Text(pattern));
        let keys: Vec<String> = keys
            .iter()
            .map(|k| sql.bind(Bind::Text(k.clone())))
            .collect();
        conditions.push(format!(
            "e.uid IN (SELECT entity_uid FROM catalog_search WHERE key IN ({}) AND value LIKE {pattern} ESCAPE '\\')",
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
        match (query.order.first(), value) {
            (Some((_, desc)), Some(value)) => {
                let value = sql.bind(Bind::Text(value.clone()));
                let cmp = if *desc { "<" } else { ">" };
                outer.push(format!(
                    "(sv0 {cmp} {value} OR (sv0 = {value} AND uid > {uid}))"
                ));
            }
            (Some(_), None) => outer.push(format!("(sv0 IS NULL AND uid > {uid})")),
            (None, _) => outer.push(format!("uid > {uid}")),
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
    let order_by = |prefix: &str| {
        let mut order: Vec<String> = query
            .order
            .iter()
            .enumerate()
            .map(|(i, (_, desc))| {
                format!(
                    "CASE WHEN {prefix}sv{i} IS NULL THEN 1 ELSE 0 END, {prefix}sv{i} {}",
                    if *desc { "DESC" } else { "ASC" }
                )
            })
            .collect();
        order.push(match (query.order.is_empty(), query.default_order) {
            (true, DefaultOrder::EntityRef) => format!("{prefix}entity_ref ASC"),
            _ => format!("{prefix}uid ASC"),
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
/// (SQLite needs `BEGIN IMMEDIATE` so concurrent writers wait instead of failing on upgrade).
#[macro_export]
#[doc(hidden)]
macro_rules! impl_catalog_store {
    ($store:ty, $db:ty, $begin:expr) => {
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

            /// Refs, uids and rows per statement: well under both backends' parameter limits.
            const CHUNK: usize = 500;

            /// `<head> ($1, $2, ...)` over `items`.
            fn in_list(head: &str, items: &[&str]) -> sqlx::QueryBuilder<$db> {
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
                    let entities: Vec<(String, String, String, String)> = in_list(
                        "SELECT uid, entity_ref, processed, etag FROM catalog_entities WHERE entity_ref IN",
                        chunk,
                    )
                    .build_query_as()
                    .fetch_all(&mut **tx)
                    .await?;
                    let relations: Vec<(String, String, String)> = in_list(
                        "SELECT DISTINCT source_ref, type, target_ref FROM catalog_relations WHERE source_ref IN",
                        chunk,
                    )
                    .build_query_as()
                    .fetch_all(&mut **tx)
                    .await?;
                    let mut by_source: HashMap<String, Vec<(String, String)>> = HashMap::new();
                    for (source, kind, target) in relations {
                        by_source.entry(source).or_default().push((kind, target));
                    }
                    let served: Vec<(String, Stitched)> = entities
                        .into_iter()
                        .filter_map(|(uid, entity_ref, processed, etag)| {
                            let relations = by_source.remove(&entity_ref).unwrap_or_default();
                            let served = stitch(&processed, &uid, relations);
                            (served.etag != etag).then_some((uid, served))
                        })
                        .collect();
                    if served.is_empty() {
                        continue;
                    }
                    let mut update = sqlx::QueryBuilder::<$db>::new(
                        "UPDATE catalog_entities SET body = v.column2, etag = v.column3 FROM (",
                    );
                    update.push_values(&served, |mut row, (uid, s)| {
                        row.push_bind(uid).push_bind(&s.body).push_bind(&s.etag);
                    });
                    update.push(") AS v WHERE catalog_entities.uid = v.column1");
                    update.build().execute(&mut **tx).await?;
                    let uids: Vec<&str> = served.iter().map(|(uid, _)| uid.as_str()).collect();
                    in_list("DELETE FROM catalog_search WHERE entity_uid IN", &uids)
                        .build()
                        .execute(&mut **tx)
                        .await?;
                    let rows: Vec<(&str, &SearchRow)> = served
                        .iter()
                        .flat_map(|(uid, s)| s.rows.iter().map(move |row| (uid.as_str(), row)))
                        .collect();
                    insert_rows(
                        tx,
                        "INSERT INTO catalog_search (entity_uid, key, value, original_value) ",
                        &rows,
                        2 * CHUNK,
                        |mut b, (uid, row)| {
                            b.push_bind(*uid)
                                .push_bind(&row.key)
                                .push_bind(&row.value)
                                .push_bind(&row.original);
                        },
                    )
                    .await?;
                }
                Ok(())
            }

            /// Every ref that relation rows originated by `uids` point from.
            async fn relation_sources(tx: &mut Tx<'_>, uids: &[&str]) -> Result<Vec<String>, sqlx::Error> {
                let mut sources = Vec::new();
                for chunk in uids.chunks(CHUNK) {
                    let found: Vec<String> = in_list(
                        "SELECT DISTINCT source_ref FROM catalog_relations WHERE originator_uid IN",
                        chunk,
                    )
                    .build_query_scalar()
                    .fetch_all(&mut **tx)
                    .await?;
                    sources.extend(found);
                }
                Ok(sources)
            }

            /// `<head> VALUES (...), (...)` over `rows`, `per_statement` rows per statement.
            async fn insert_rows<T>(
                tx: &mut Tx<'_>,
                head: &str,
                rows: &[T],
                per_statement: usize,
                mut push: impl FnMut(sqlx::query_builder::Separated<'_, $db, &'static str>, &T),
            ) -> Result<(), sqlx::Error> {
                for chunk in rows.chunks(per_statement) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(head);
                    insert.push_values(chunk, |b, row| push(b, row));
                    insert.build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            /// Runs `<head> (uids)` in chunks (deletes by uid).
            async fn for_uids(tx: &mut Tx<'_>, head: &str, uids: &[&str]) -> Result<(), sqlx::Error> {
                for chunk in uids.chunks(CHUNK) {
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
                         AND status <> 'processing' ORDER BY next_refresh_at LIMIT $2"
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now).bind(limit).fetch_all(&self.pool).await?;
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
                         JOIN catalog_entities e ON e.uid = r.originator_uid WHERE e.location_id = $1",
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
                    let existing: Vec<(String, String, String)> = sqlx::query_as(
                        "SELECT entity_ref, uid, processed_hash FROM catalog_entities WHERE location_id = $1",
                    )
                    .bind(location_id)
                    .fetch_all(&mut *tx)
                    .await?;
                    let mut existing: HashMap<String, (String, String)> =
                        existing.into_iter().map(|(r, u, h)| (r, (u, h))).collect();
                    let mut updated: Vec<(String, &ProcessedEntity)> = Vec::new();
                    let mut new: Vec<&ProcessedEntity> = Vec::new();
                    for entity in entities {
                        match existing.remove(&entity.entity_ref) {
                            Some((_, hash)) if hash == entity.hash => {}
                            Some((uid, _)) => updated.push((uid, entity)),
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
                    let mut inserted: Vec<(String, &ProcessedEntity)> = Vec::new();
                    for entity in new {
                        match owners.get(&entity.entity_ref) {
                            Some(owner) => outcome.conflicts.push((entity.entity_ref.clone(), owner.clone())),
                            None => inserted.push((uuid::Uuid::now_v7().to_string(), entity)),
                        }
                    }
                    insert_rows(
                        &mut tx,
                        "INSERT INTO catalog_entities (uid, entity_ref, location_id, processed_hash, processed, body, etag) ",
                        &inserted,
                        CHUNK,
                        |mut row, (uid, entity)| {
                            row.push_bind(uid.as_str())
                                .push_bind(entity.entity_ref.as_str())
                                .push_bind(location_id)
                                .push_bind(entity.hash.as_str())
                                .push_bind(entity.processed.as_str())
                                .push_bind("{}")
                                .push_bind("");
                        },
                    )
                    .await?;
                    for (uid, entity) in &updated {
                        sqlx::query("UPDATE catalog_entities SET processed = $1, processed_hash = $2 WHERE uid = $3")
                            .bind(&entity.processed)
                            .bind(&entity.hash)
                            .bind(uid)
                            .execute(&mut *tx)
                            .await?;
                    }
                    outcome.inserted = inserted.len();
                    outcome.updated = updated.len();
                    outcome.removed = existing.len();
                    // Entities that gain, lose or change relations are re-served below.
                    let mut affected = BTreeSet::new();
                    let removed: Vec<&str> = existing.values().map(|(uid, _)| uid.as_str()).collect();
                    affected.extend(relation_sources(&mut tx, &removed).await?);
                    for_uids(&mut tx, "DELETE FROM catalog_entities WHERE uid IN", &removed).await?;
                    let updated_uids: Vec<&str> = updated.iter().map(|(uid, _)| uid.as_str()).collect();
                    affected.extend(relation_sources(&mut tx, &updated_uids).await?);
                    for_uids(&mut tx, "DELETE FROM catalog_relations WHERE originator_uid IN", &updated_uids).await?;
                    let changed: Vec<&(String, &ProcessedEntity)> = inserted.iter().chain(&updated).collect();
                    let relations: Vec<(&str, &Relation)> = changed
                        .iter()
                        .flat_map(|(uid, entity)| entity.relations.iter().map(move |r| (uid.as_str(), r)))
                        .collect();
                    insert_rows(
                        &mut tx,
                        "INSERT INTO catalog_relations (originator_uid, source_ref, type, target_ref) ",
                        &relations,
                        2 * CHUNK,
                        |mut b, (uid, r)| {
                            b.push_bind(*uid)
                                .push_bind(r.source.as_str())
                                .push_bind(r.kind)
                                .push_bind(r.target.as_str());
                        },
                    )
                    .await?;
                    affected.extend(changed.iter().map(|(_, entity)| entity.entity_ref.clone()));
                    affected.extend(relations.iter().map(|(_, r)| r.source.clone()));
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
                    let mut out = Vec::new();
                    for chunk in refs.chunks(500) {
                        let mut select = sqlx::QueryBuilder::<$db>::new(
                            "SELECT entity_ref, body FROM catalog_entities WHERE entity_ref IN (",
                        );
                        let mut list = select.separated(", ");
                        for r in chunk {
                            list.push_bind(r.clone());
                        }
                        select.push(")");
                        let rows: Vec<(String, String)> = select.build_query_as().fetch_all(&self.pool).await?;
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
                    let peers = relation_sources(&mut tx, &[uid]).await?;
                    sqlx::query("DELETE FROM catalog_entities WHERE uid = $1")
                        .bind(uid)
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
                        "SELECT entity_uid, key, original_value FROM catalog_search \
                         WHERE original_value IS NOT NULL AND key IN",
                        keys,
                    );
                    Ok(select.build_query_as().fetch_all(&self.pool).await?)
                }

                async fn facet(&self, key: &str, filter: &Filter) -> Result<Vec<(String, i64)>, StoreError> {
                    let mut sql = sql::Sql::default();
                    sql.binds.push(Bind::Text(key.to_lowercase()));
                    let condition = sql::filter_condition(&mut sql, filter, "s.entity_uid");
                    sql.text = format!(
                        "SELECT s.original_value, COUNT(DISTINCT s.entity_uid) FROM catalog_search s \
                         WHERE s.key = $1 AND s.original_value IS NOT NULL AND {condition} \
                         GROUP BY s.original_value ORDER BY s.original_value"
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
