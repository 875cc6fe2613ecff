//! The SQL of entity reads, for both backends: filters as conditions on search rows, order by
//! search keys, keyset and offset pages, full-text terms.

use super::dialect::CatalogSql;
use super::{DefaultOrder, RowQuery};
use crate::catalog::filter::{Condition, Filter};
use crate::db::sql::{SqlBuilder, Statement};

/// `id_column IN (...)` conditions for `filter` (`id_column` holds entity ids), or
/// `TRUE`-equivalent when it is empty.
pub fn filter_condition(sql: &mut SqlBuilder, filter: &Filter, id_column: &str) -> String {
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
fn rows_matching(sql: &mut SqlBuilder, key: &str, condition: &Condition) -> Option<String> {
    let key = sql.placeholder(key);
    let rows = format!("SELECT entity_id FROM catalog_search WHERE key = {key}");
    match condition {
        Condition::In(values) if values.is_empty() => None,
        Condition::In(values) => {
            let values: Vec<String> = values.iter().map(|v| sql.placeholder(v)).collect();
            Some(format!("{rows} AND value IN ({})", values.join(", ")))
        }
        Condition::Prefix(prefix) => {
            let pattern = sql.placeholder(format!("{}%", like_escaped(prefix)));
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
pub fn entity_query<DB: CatalogSql>(query: &RowQuery, count: bool) -> Statement {
    let mut sql = SqlBuilder::default();
    let mut columns = String::from("e.uid");
    let mut sort_columns = Vec::new();
    for (i, (key, _)) in query.order.iter().enumerate() {
        let key = sql.placeholder(key);
        columns.push_str(&format!(
            ", (SELECT MIN(s.value) FROM {} WHERE s.entity_id = e.id AND s.key = {key}) AS sv{i}",
            DB::SORT_VALUE_ROWS
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
        let pattern = sql.placeholder(pattern);
        let keys: Vec<String> = keys.iter().map(|k| sql.placeholder(k)).collect();
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
        let uid = sql.placeholder(uid);
        // Forwards: later in the order; backwards: earlier (values missing sort last).
        let (later, earlier) = if query.backwards {
            ("<", ">")
        } else {
            (">", "<")
        };
        match (query.order.first(), value) {
            (Some((_, desc)), Some(value)) => {
                let value = sql.placeholder(value);
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
        return sql.finish_with(format!("SELECT COUNT(*) FROM ({inner}) q{where_outer}"));
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
    // SQL integers are signed 64-bit: a larger limit or offset (any u64 a client sends) is the
    // same as the largest one, not a database error.
    let largest = i64::MAX as u64;
    if let Some(limit) = query.limit {
        page.push_str(&format!(" LIMIT {}", limit.min(largest)));
    } else if query.offset > 0 {
        page.push_str(&format!(" LIMIT {largest}"));
    }
    if query.offset > 0 {
        page.push_str(&format!(" OFFSET {}", query.offset.min(largest)));
    }
    let outer_order = order_by("p.");
    sql.finish_with(format!(
        "SELECT p.uid AS uid, b.body AS body, p.sv0 AS sort_value FROM ({page}) p \
         JOIN catalog_entities b ON b.uid = p.uid ORDER BY {outer_order}"
    ))
}
