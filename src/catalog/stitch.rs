//! Stitching: the served form of an entity from its processed form and every relation row whose
//! source it is (as Backstage's stitcher serves it): `metadata.uid`, `metadata.etag` (sha1 of the served JSON without
//! uid and etag, so it changes exactly when the served entity changes) and sorted `relations`.

use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use super::model::{Entity, hex};
use super::search::{SearchRow, search_rows};

/// The served entity: JSON text, its etag, and its search rows.
pub struct Stitched {
    /// The served JSON.
    pub body: String,
    /// Its etag (changes exactly when the served JSON does).
    pub etag: String,
    /// Its search rows.
    pub rows: Vec<SearchRow>,
}

/// `relations` are `(type, target ref)` pairs, in any order, possibly repeated.
pub fn stitch(processed: &str, uid: &str, mut relations: Vec<(String, String)>) -> Stitched {
    let mut entity: Entity = serde_json::from_str(processed).unwrap_or_default();
    relations.sort();
    relations.dedup();
    entity.insert(
        "relations".into(),
        Value::Array(
            relations
                .into_iter()
                .map(|(t, target)| json!({"type": t, "targetRef": target}))
                .collect(),
        ),
    );
    let existing_etag = entity
        .get("metadata")
        .and_then(|m| m.get("etag"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let etag = existing_etag.unwrap_or_else(|| {
        let text = serde_json::to_string(&entity).unwrap_or_default();
        hex(&Sha1::digest(text.as_bytes()))
    });
    if let Some(Value::Object(meta)) = entity.get_mut("metadata") {
        meta.insert("uid".into(), uid.into());
        meta.insert("etag".into(), etag.clone().into());
    }
    let rows = search_rows(&entity);
    Stitched {
        body: serde_json::to_string(&entity).unwrap_or_default(),
        etag,
        rows,
    }
}

/// The processed form `processed` with `status.items` holding one Backstage processing error per
/// message (`Name: message` keeps its error name, otherwise `Error`); `None` if it is not JSON.
pub fn with_status(processed: &str, messages: &[String]) -> Option<String> {
    let mut entity: Entity = serde_json::from_str(processed).ok()?;
    let items: Vec<Value> = messages
        .iter()
        .map(|text| {
            let (name, message) = match text.split_once(": ") {
                Some((name, rest))
                    if name.ends_with("Error") && name.chars().all(char::is_alphanumeric) =>
                {
                    (name, rest)
                }
                _ => ("Error", text.as_str()),
            };
            json!({
                "type": "backstage.io/catalog-processing",
                "level": "error",
                "message": format!("{name}: {message}"),
                "error": {"name": name, "message": message},
            })
        })
        .collect();
    entity.insert("status".into(), json!({"items": items}));
    serde_json::to_string(&entity).ok()
}

/// The hash stored with a processed entity.
pub fn processed_hash(processed: &str) -> String {
    hex(&Sha1::digest(processed.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processing_errors_become_status_items() {
        let p = r#"{"kind":"Location","metadata":{"name":"a"}}"#;
        let messages = [
            "NotFoundError: Unable to read file, no matching files found for /x".to_owned(),
            "Invalid b.yaml: missing required field 'metadata.name'".to_owned(),
        ];
        let served: Value = serde_json::from_str(&with_status(p, &messages).unwrap()).unwrap();
        assert_eq!(
            served["status"]["items"][0],
            json!({"type": "backstage.io/catalog-processing", "level": "error",
                "message": "NotFoundError: Unable to read file, no matching files found for /x",
                "error": {"name": "NotFoundError", "message": "Unable to read file, no matching files found for /x"}})
        );
        assert_eq!(served["status"]["items"][1]["error"]["name"], "Error");
    }

    #[test]
    fn etag_follows_content_and_uid_is_set() {
        let p = r#"{"kind":"Group","metadata":{"name":"a","namespace":"default"}}"#;
        let a = stitch(p, "u1", vec![]);
        let b = stitch(p, "u1", vec![]);
        let c = stitch(
            p,
            "u1",
            vec![("ownerOf".into(), "component:default/x".into())],
        );
        assert_eq!(a.etag, b.etag);
        assert_ne!(a.etag, c.etag);
        let served: Value = serde_json::from_str(&c.body).unwrap();
        assert_eq!(served["metadata"]["uid"], "u1");
        assert_eq!(served["relations"][0]["targetRef"], "component:default/x");
    }
}
