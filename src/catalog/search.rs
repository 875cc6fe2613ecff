//! The flattened search rows of a served entity (as Backstage's catalog builds its search table): what every filter, order and
//! facet is evaluated against, through database indexes.

use std::collections::BTreeSet;

use serde_json::Value;

use super::model::Entity;

/// Longest key and value kept; longer values are stored as NULL (they only satisfy "exists").
pub const MAX_LEN: usize = 200;

/// One row: lower-cased key and value, and the value as written (for facets).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SearchRow {
    /// The dotted key, lower-case (`spec.owner`).
    pub key: String,
    /// The value, lower-case; `None` for a key whose value is too long to index.
    pub value: Option<String>,
    /// The value as written, for facets and the DORA directory.
    pub original: Option<String>,
}

/// Flattens a served entity (with `metadata.uid` and `relations`) into de-duplicated rows.
pub fn search_rows(entity: &Entity) -> Vec<SearchRow> {
    let mut raw: Vec<(String, Option<String>)> = Vec::new();
    for (key, value) in entity {
        if matches!(key.as_str(), "attachments" | "relations" | "status") {
            continue;
        }
        if key == "metadata"
            && let Value::Object(meta) = value
        {
            for (mk, mv) in meta {
                if !matches!(mk.as_str(), "name" | "namespace" | "uid" | "etag") {
                    walk(&format!("metadata.{mk}"), mv, &mut raw);
                }
            }
            for mk in ["name", "namespace", "uid"] {
                if let Some(v) = meta.get(mk).and_then(Value::as_str) {
                    raw.push((format!("metadata.{mk}"), Some(v.to_owned())));
                }
            }
            continue;
        }
        walk(key, value, &mut raw);
    }
    if let Some(Value::Array(relations)) = entity.get("relations") {
        for r in relations {
            if let (Some(t), Some(target)) = (
                r.get("type").and_then(Value::as_str),
                r.get("targetRef").and_then(Value::as_str),
            ) {
                raw.push((format!("relations.{t}"), Some(target.to_owned())));
            }
        }
    }
    let mut rows = BTreeSet::new();
    for (key, value) in raw {
        if key.len() > MAX_LEN {
            continue;
        }
        let (value, original) = match value {
            Some(v) if v.len() <= MAX_LEN => (Some(v.to_lowercase()), Some(v)),
            _ => (None, None),
        };
        rows.insert(SearchRow {
            key: key.to_lowercase(),
            value,
            original,
        });
    }
    rows.into_iter().collect()
}

fn walk(path: &str, value: &Value, out: &mut Vec<(String, Option<String>)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                walk(&format!("{path}.{k}"), v, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                if let Value::String(s) = item {
                    out.push((format!("{path}.{s}"), Some("true".into())));
                }
                walk(path, item, out);
            }
        }
        Value::Null => out.push((path.to_owned(), None)),
        Value::String(s) => out.push((path.to_owned(), Some(s.clone()))),
        Value::Bool(b) => out.push((path.to_owned(), Some(b.to_string()))),
        Value::Number(n) => out.push((path.to_owned(), Some(n.to_string()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattens_like_backstage() {
        let e = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": "Svc", "namespace": "default", "uid": "u1", "etag": "e",
                "tags": ["Java"], "annotations": {"backstage.io/x": "Y"}, "description": "x".repeat(201)},
            "spec": {"owner": "team-a"}, "status": {"items": []},
            "relations": [{"type": "ownedBy", "targetRef": "group:default/team-a"}]});
        let rows = search_rows(e.as_object().unwrap());
        let get = |k: &str| {
            rows.iter()
                .filter(|r| r.key == k)
                .map(|r| r.value.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(get("metadata.name"), vec![Some("svc".to_owned())]);
        assert_eq!(get("metadata.tags.java"), vec![Some("true".to_owned())]);
        assert_eq!(get("metadata.tags"), vec![Some("java".to_owned())]);
        assert_eq!(
            get("metadata.annotations.backstage.io/x"),
            vec![Some("y".to_owned())]
        );
        assert_eq!(
            get("relations.ownedby"),
            vec![Some("group:default/team-a".to_owned())]
        );
        assert_eq!(get("metadata.description"), vec![None]);
        assert!(get("metadata.etag").is_empty() && get("status.items").is_empty());
        assert!(rows.iter().any(|r| r.original.as_deref() == Some("Svc")));
    }
}
