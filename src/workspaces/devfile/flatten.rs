//! A devfile with a parent made one flat devfile, as devfile/api's `overriding` package does it
//! (and the DevWorkspace Operator and devfile/library with it): the parent's content patched with
//! the `parent:` overrides ([`override_parent`], see [`patch`]), then merged with the devfile's own
//! content ([`merge`]): the parent's elements first, an element both define refused, events joined.
//! The flat devfile is what devfile/library's rules are run on. Fetching the parent is the
//! caller's part (`workspaces::parent`).

mod patch;

use serde_json::{Map, Value};

use patch::{Place, element_keys};

/// The fields of a devfile that are its content (everything but `schemaVersion`, `metadata` and
/// `parent`).
const CONTENT: &[&str] = &[
    "variables",
    "attributes",
    "components",
    "projects",
    "starterProjects",
    "dependentProjects",
    "commands",
    "events",
];

/// `document`'s content: its fields in [`CONTENT`].
pub fn content(document: &Value) -> Value {
    let mut out = Map::new();
    if let Some(map) = document.as_object() {
        for (k, v) in map {
            if CONTENT.contains(&k.as_str()) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// The overrides a `parent:` carries (its content fields).
pub fn overrides(parent: &Value) -> Value {
    content(parent)
}

/// The parent's content patched with `overrides`; an override naming an element the parent does
/// not have is refused, with devfile/api's words.
pub fn override_parent(parent: &Value, overrides: &Value) -> Result<Value, String> {
    let mut problems = Vec::new();
    let known = element_keys(parent);
    for (kind, keys) in element_keys(overrides) {
        let existing = keys_of(&known, kind);
        let mut new: Vec<&String> = keys.iter().filter(|k| !existing.contains(k)).collect();
        new.sort();
        new.dedup();
        if !new.is_empty() {
            problems.push(format!(
                "Some {kind} do not override any existing element: {}. They should be defined in the main body, as new elements, not in the overriding section",
                join(&new)
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(patch::patch(parent, overrides, Place::Content))
}

/// The devfile's own content merged after its (overridden) parent's: the parent's elements first,
/// then the devfile's; events joined without repeats; an element, variable or attribute both
/// define is refused, with devfile/api's words.
pub fn merge(main: &Value, parent: &Value) -> Result<Value, String> {
    let mut problems = Vec::new();
    let parent_keys = element_keys(parent);
    for (kind, keys) in element_keys(main) {
        let theirs = keys_of(&parent_keys, kind);
        let mut both: Vec<&String> = keys.iter().filter(|k| theirs.contains(k)).collect();
        both.sort();
        both.dedup();
        if !both.is_empty() {
            problems.push(format!(
                "Some {kind} are already defined in parent: {}. If you want to override them, you should do it in the parent scope.",
                join(&both)
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    let mut out = Map::new();
    for list in [
        "components",
        "projects",
        "starterProjects",
        "dependentProjects",
        "commands",
    ] {
        let items: Vec<Value> = [parent, main]
            .iter()
            .filter_map(|c| c.get(list).and_then(Value::as_array))
            .flatten()
            .cloned()
            .collect();
        if !items.is_empty() {
            out.insert(list.into(), Value::Array(items));
        }
    }
    for map in ["variables", "attributes"] {
        let mut merged = Map::new();
        for c in [parent, main] {
            if let Some(m) = c.get(map).and_then(Value::as_object) {
                merged.extend(m.clone());
            }
        }
        if !merged.is_empty() {
            out.insert(map.into(), Value::Object(merged));
        }
    }
    if parent.get("events").is_some() || main.get("events").is_some() {
        let mut events = Map::new();
        for kind in ["preStart", "postStart", "preStop", "postStop"] {
            let mut ids: Vec<Value> = Vec::new();
            for c in [parent, main] {
                for id in c
                    .pointer(&format!("/events/{kind}"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if !ids.contains(id) {
                        ids.push(id.clone());
                    }
                }
            }
            if !ids.is_empty() {
                events.insert(kind.into(), Value::Array(ids));
            }
        }
        out.insert("events".into(), Value::Object(events));
    }
    Ok(Value::Object(out))
}

/// `document` with its parent's `content` (already overridden) merged in and `parent` removed:
/// the flat devfile devfile/library's rules are run on.
pub fn flatten(document: &Value, parent_content: &Value) -> Result<Value, String> {
    let overridden = override_parent(
        parent_content,
        &overrides(document.get("parent").unwrap_or(&Value::Null)),
    )?;
    let merged = merge(&content(document), &overridden)?;
    let mut flat = Map::new();
    for key in ["schemaVersion", "metadata"] {
        if let Some(v) = document.get(key) {
            flat.insert(key.into(), v.clone());
        }
    }
    if let Some(m) = merged.as_object() {
        flat.extend(m.clone());
    }
    Ok(Value::Object(flat))
}

/// The keys of element type `kind` in `keys` (every type is listed by `element_keys`).
fn keys_of<'k>(keys: &'k [(&'static str, Vec<String>)], kind: &str) -> &'k [String] {
    keys.iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, found)| found.as_slice())
        .unwrap_or_default()
}

fn join(keys: &[&String]) -> String {
    keys.iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
