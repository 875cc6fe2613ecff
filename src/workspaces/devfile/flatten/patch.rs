//! devfile/api's overriding (`pkg/utils/overriding`): a parent's content patched with the
//! overrides a devfile's `parent:` carries, the way Kubernetes' strategic merge patch does it with
//! the devfile types' patch strategies:
//!
//! - keyed lists merge element by element (`components`, `projects`, `starterProjects`,
//!   `dependentProjects`, endpoints, env, volume mounts by `name`; `commands` by `id`), in the
//!   order strategic merge gives: the patch's elements in patch order, the others kept in place;
//! - other lists (`command`, `args`, composite `commands`, ...) are replaced;
//! - maps merge key by key, and an `attributes` value is replaced whole;
//! - a union (a component's kind, a command's kind, a project's source, ...) takes the patch's
//!   member and drops the other members;
//! - `null` removes a field.

use serde_json::{Map, Value};

/// Where in a devfile's content a value sits, as far as patch strategies care.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Place {
    /// The content itself (top level of a devfile without `schemaVersion`/`metadata`).
    Content,
    Component,
    Command,
    Project,
    /// `container`: keyed `env`, `endpoints`, `volumeMounts`.
    Container,
    /// `kubernetes`/`openshift`: a `uri`/`inlined` union with keyed `endpoints`.
    Manifest,
    Endpoint,
    Image,
    Dockerfile,
    /// A plugin reference: a `uri`/`id`/`kubernetes` union with nested overrides.
    Plugin,
    /// `exec`: keyed `env`.
    Exec,
    /// A VS Code task or launch configuration: a `uri`/`inlined` union.
    Vscode,
    /// `attributes`: keys merge, values are replaced.
    Attributes,
    /// Anything else: objects merge, lists are replaced.
    Plain,
}

/// The members of the union an object at `place` holds, if any.
fn union(place: Place) -> &'static [&'static str] {
    match place {
        Place::Component => &[
            "container",
            "kubernetes",
            "openshift",
            "volume",
            "image",
            "plugin",
            "custom",
        ],
        Place::Command => &[
            "exec",
            "apply",
            "composite",
            "custom",
            "vscodeTask",
            "vscodeLaunch",
        ],
        Place::Project => &["git", "github", "zip", "custom"],
        Place::Manifest | Place::Vscode => &["uri", "inlined"],
        Place::Image => &["dockerfile", "autoBuild"],
        Place::Dockerfile => &["uri", "devfileRegistry", "git"],
        Place::Plugin => &["uri", "id", "kubernetes"],
        _ => &[],
    }
}

/// The merge key of the list at `field` of an object at `place`, and its elements' place.
pub(super) fn keyed(place: Place, field: &str) -> Option<(&'static str, Place)> {
    Some(match (place, field) {
        (Place::Content | Place::Plugin, "components") => ("name", Place::Component),
        (Place::Content | Place::Plugin, "commands") => ("id", Place::Command),
        (Place::Content, "projects" | "starterProjects" | "dependentProjects") => {
            ("name", Place::Project)
        }
        (Place::Container | Place::Manifest, "endpoints") => ("name", Place::Endpoint),
        (Place::Container | Place::Exec, "env") | (Place::Container, "volumeMounts") => {
            ("name", Place::Plain)
        }
        _ => return None,
    })
}

/// The place of the object at `field` of an object at `place`.
fn child(place: Place, field: &str) -> Place {
    match (place, field) {
        (_, "attributes") if place != Place::Attributes => Place::Attributes,
        (Place::Component, "container") => Place::Container,
        (Place::Component, "kubernetes" | "openshift") => Place::Manifest,
        (Place::Component, "image") => Place::Image,
        (Place::Component, "plugin") => Place::Plugin,
        (Place::Image, "dockerfile") => Place::Dockerfile,
        (Place::Command, "exec") => Place::Exec,
        (Place::Command, "vscodeTask" | "vscodeLaunch") => Place::Vscode,
        _ => Place::Plain,
    }
}

/// `original` patched with `patch`, both objects at `place`.
pub(super) fn patch(original: &Value, with: &Value, place: Place) -> Value {
    let (Some(original), Some(patch_map)) = (original.as_object(), with.as_object()) else {
        return with.clone();
    };
    let mut out = original.clone();
    let members = union(place);
    if let Some(chosen) = members.iter().find(|m| patch_map.contains_key(**m)) {
        out.retain(|k, _| k == chosen || !members.contains(&k.as_str()));
    }
    for (key, value) in patch_map {
        if value.is_null() {
            out.remove(key);
            continue;
        }
        let merged = match (out.get(key), value) {
            (Some(_), _) if place == Place::Attributes => value.clone(),
            (Some(Value::Array(old)), Value::Array(new)) => match keyed(place, key) {
                Some((merge_key, item)) => Value::Array(keyed_list(old, new, merge_key, item)),
                None => value.clone(),
            },
            (Some(old @ Value::Object(_)), Value::Object(_)) => {
                patch(old, value, child(place, key))
            }
            _ => value.clone(),
        };
        out.insert(key.clone(), merged);
    }
    Value::Object(out)
}

fn key_of<'v>(item: &'v Value, key: &str) -> Option<&'v str> {
    item.get(key).and_then(Value::as_str)
}

/// A keyed list merged as strategic merge patch merges it: each patch element merged into the
/// original element of the same key (or added), then the patch's elements in patch order
/// interleaved with the original-only elements in original order.
fn keyed_list(original: &[Value], patch_items: &[Value], key: &str, place: Place) -> Vec<Value> {
    let in_patch = |item: &Value| {
        key_of(item, key).is_some_and(|k| patch_items.iter().any(|p| key_of(p, key) == Some(k)))
    };
    let server_only: Vec<&Value> = original.iter().filter(|o| !in_patch(o)).collect();
    let patched: Vec<Value> = patch_items
        .iter()
        .map(|p| {
            let same = original
                .iter()
                .find(|o| key_of(o, key).is_some() && key_of(o, key) == key_of(p, key));
            match same {
                Some(o) => self::patch(o, p, place),
                None => p.clone(),
            }
        })
        .collect();
    let server_index = |item: &Value| {
        let k = key_of(item, key)?;
        original.iter().position(|o| key_of(o, key) == Some(k))
    };
    // Insert each original-only element before the first patch element that the original list
    // had after it; elements the original did not know keep their place in the patch.
    let mut out = Vec::with_capacity(server_only.len() + patched.len());
    let (mut left, mut right) = (
        server_only.into_iter().peekable(),
        patched.into_iter().peekable(),
    );
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => {
                matches!((server_index(l), server_index(r)), (Some(li), Some(ri)) if li < ri)
            }
        };
        let next = if take_left {
            left.next().cloned()
        } else {
            right.next()
        };
        out.extend(next);
    }
    out
}

/// The keys of the content's keyed lists and maps, per devfile/api's element type name.
pub(super) fn element_keys(content: &Value) -> Vec<(&'static str, Vec<String>)> {
    let list = |field: &str, key: &str| -> Vec<String> {
        content
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|item| key_of(item, key).map(str::to_owned))
            .collect()
    };
    let map = |field: &str| -> Vec<String> {
        content
            .get(field)
            .and_then(Value::as_object)
            .map(|m: &Map<String, Value>| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    vec![
        ("Components", list("components", "name")),
        ("Commands", list("commands", "id")),
        ("Projects", list("projects", "name")),
        ("StarterProjects", list("starterProjects", "name")),
        ("DependentProjects", list("dependentProjects", "name")),
        ("Variables", map("variables")),
        ("Attributes", map("attributes")),
    ]
}
