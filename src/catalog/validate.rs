//! Entity validation as Backstage does it (envelope, field formats, built-in kinds). Each failure
//! is one message naming the field, so a person can fix the file.

use serde_json::{Map, Value};

use super::model::{DEFAULT_NAMESPACE, Entity, EntityRef};
use super::template::check_template;
use crate::names::is_dns_label;

const ADR: &str = "To learn more about catalog file format, visit: https://github.com/backstage/backstage/blob/master/docs/architecture-decisions/adr002-default-catalog-file-format.md";

/// Checks `value` and returns the entity as the catalog keeps it: namespace defaulted, the
/// relation arrays of `spec` sorted. `allowed_kinds` are lower-case.
pub fn validate(value: Value, allowed_kinds: &[String]) -> Result<Entity, String> {
    let mut entity = match value {
        Value::Object(map) => map,
        other => {
            return Err(format!(
                "expected a mapping at the document root, got {}",
                json_type(&other)
            ));
        }
    };
    for key in entity.keys() {
        if !matches!(key.as_str(), "apiVersion" | "kind" | "metadata" | "spec") {
            return Err(format!(
                "unknown field '{key}' at the document root (allowed: apiVersion, kind, metadata, spec)"
            ));
        }
    }
    let api_version = required_string(&entity, "apiVersion", "apiVersion")?.to_owned();
    let kind = required_string(&entity, "kind", "kind")?.to_owned();
    let Some(metadata) = entity.get_mut("metadata") else {
        return Err("missing required field 'metadata'".into());
    };
    let Value::Object(metadata) = metadata else {
        return Err("'metadata' must be a mapping".into());
    };
    validate_metadata(metadata)?;
    check(
        &api_version,
        "apiVersion",
        is_api_version,
        "a string that is sequences of [a-zA-Z0-9] (at most 63 characters), optionally preceded by a DNS subdomain and a /",
    )?;
    check(
        &kind,
        "kind",
        is_kind,
        "a string that is a letter followed by [a-zA-Z0-9], at most 63 characters in total",
    )?;
    match entity.get_mut("spec") {
        None => {}
        Some(Value::Object(spec)) => sort_relation_arrays(spec),
        Some(_) => return Err("'spec' must be a mapping".into()),
    }
    validate_kind(&api_version, &kind, &entity)?;
    if !allowed_kinds.iter().any(|k| k.eq_ignore_ascii_case(&kind)) {
        return Err(format!(
            "kind '{kind}' is not allowed here (catalog.allowed_kinds: {})",
            allowed_kinds.join(", ")
        ));
    }
    Ok(entity)
}

fn validate_metadata(metadata: &mut Map<String, Value>) -> Result<(), String> {
    let name = required_string(metadata, "name", "metadata.name")?;
    check(
        name,
        "metadata.name",
        is_name,
        "a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total",
    )?;
    match metadata.get("namespace") {
        None => {
            metadata.insert("namespace".into(), DEFAULT_NAMESPACE.into());
        }
        Some(Value::String(ns)) => check(
            ns,
            "metadata.namespace",
            is_dns_label,
            "a string that is sequences of [a-z0-9] separated by [-], at most 63 characters in total",
        )?,
        Some(_) => return Err("'metadata.namespace' must be a string".into()),
    }
    for field in ["title", "uid", "etag", "description"] {
        match metadata.get(field) {
            None | Some(Value::String(_)) => {}
            Some(_) => return Err(format!("'metadata.{field}' must be a string")),
        }
    }
    for (field, value_ok, value_rule) in [
        (
            "labels",
            is_label_value as fn(&str) -> bool,
            "an empty string or sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total",
        ),
        ("annotations", (|_: &str| true) as fn(&str) -> bool, ""),
    ] {
        match metadata.get(field) {
            None => {}
            Some(Value::Object(map)) => {
                for (key, value) in map {
                    let path = format!("metadata.{field}.{key}");
                    check(
                        key,
                        &path,
                        is_prefixed_key,
                        "a valid prefix and/or suffix: an optional DNS subdomain and a /, then sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters",
                    )?;
                    let Value::String(value) = value else {
                        return Err(format!("'{path}' must be a string"));
                    };
                    check(value, &path, value_ok, value_rule)?;
                }
            }
            Some(_) => return Err(format!("'metadata.{field}' must be a mapping of strings")),
        }
    }
    match metadata.get("tags") {
        None => {}
        Some(Value::Array(tags)) => {
            for (i, tag) in tags.iter().enumerate() {
                let Value::String(tag) = tag else {
                    return Err(format!("'metadata.tags[{i}]' must be a string"));
                };
                check(
                    tag,
                    &format!("metadata.tags[{i}]"),
                    is_tag,
                    "a string that is sequences of [a-z0-9+#] separated by [-], at most 63 characters in total",
                )?;
            }
        }
        Some(_) => return Err("'metadata.tags' must be a list of strings".into()),
    }
    match metadata.get("links") {
        None => {}
        Some(Value::Array(links)) => {
            for (i, link) in links.iter().enumerate() {
                let Some(link) = link.as_object() else {
                    return Err(format!("'metadata.links[{i}]' must be a mapping"));
                };
                let url = required_string(link, "url", &format!("metadata.links[{i}].url"))?;
                if url::Url::parse(url).is_err() {
                    return Err(format!(
                        "'metadata.links[{i}].url' is not a valid URL: \"{url}\""
                    ));
                }
            }
        }
        Some(_) => return Err("'metadata.links' must be a list".into()),
    }
    Ok(())
}

/// Required `spec` fields of the built-in kinds (and Template), checked when kind and apiVersion
/// match; an unknown kind or apiVersion is refused as Backstage's processors do.
fn validate_kind(api_version: &str, kind: &str, entity: &Entity) -> Result<(), String> {
    let backstage = matches!(
        api_version,
        "backstage.io/v1alpha1" | "backstage.io/v1beta1"
    );
    let (strings, lists): (&[&str], &[&str]) = match kind {
        "Component" if backstage => (&["type", "lifecycle", "owner"], &[]),
        "API" if backstage => (&["type", "lifecycle", "owner", "definition"], &[]),
        "Resource" if backstage => (&["type", "owner"], &[]),
        "System" | "Domain" if backstage => (&["owner"], &[]),
        "Group" if backstage => (&["type"], &["children"]),
        "User" if backstage => (&[], &["memberOf"]),
        "Location" if backstage => (&[], &[]),
        "Template" if api_version == "scaffolder.backstage.io/v1beta3" => {
            return check_template(entity.get("spec")).map_err(|e| {
                format!(
                    "Processor ScaffolderEntitiesProcessor threw an error while validating the entity {}; caused by TypeError: {e}",
                    EntityRef::of(entity)
                )
            });
        }
        _ => {
            let r = EntityRef::of(entity);
            return Err(format!(
                "No processor recognized the entity {r} as valid, possibly caused by a foreign kind or apiVersion (kind '{kind}', apiVersion '{api_version}')"
            ));
        }
    };
    let Some(spec) = entity.get("spec").and_then(Value::as_object) else {
        return Err("missing required field 'spec'".into());
    };
    for field in strings {
        required_string(spec, field, &format!("spec.{field}"))?;
    }
    for field in lists {
        match spec.get(*field) {
            None | Some(Value::Null) => {
                return Err(format!("missing required field 'spec.{field}'"));
            }
            Some(Value::Array(_)) => {}
            Some(_) => return Err(format!("'spec.{field}' must be a list")),
        }
    }
    let optional_lists: &[&str] = match kind {
        "Component" => &["providesApis", "consumesApis", "dependsOn", "dependencyOf"],
        "Resource" => &["dependsOn", "dependencyOf"],
        "Group" => &["members"],
        "Location" => &["targets"],
        _ => &[],
    };
    for field in optional_lists.iter().chain(lists.iter()) {
        if let Some(Value::Array(items)) = spec.get(*field) {
            if let Some(i) = items
                .iter()
                .position(|v| v.as_str().is_none_or(str::is_empty))
            {
                return Err(format!("'spec.{field}[{i}]' must be a non-empty string"));
            }
        } else if spec.get(*field).is_some_and(|v| !v.is_null()) {
            return Err(format!("'spec.{field}' must be a list"));
        }
    }
    if kind == "Location" {
        for field in ["type", "target", "presence"] {
            if spec.get(field).is_some_and(|v| !v.is_string()) {
                return Err(format!("'spec.{field}' must be a string"));
            }
        }
        if let Some(p) = spec.get("presence").and_then(Value::as_str)
            && !matches!(p, "required" | "optional")
        {
            return Err(format!(
                "'spec.presence' must be 'required' or 'optional', not '{p}'"
            ));
        }
    }
    Ok(())
}

/// Backstage sorts these arrays before serving, so served specs have them sorted.
fn sort_relation_arrays(spec: &mut Map<String, Value>) {
    for field in [
        "providesApis",
        "consumesApis",
        "dependsOn",
        "dependencyOf",
        "memberOf",
        "children",
        "members",
    ] {
        if let Some(Value::Array(items)) = spec.get_mut(field)
            && items.iter().all(Value::is_string)
        {
            items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        }
    }
}

fn required_string<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a str, String> {
    match map.get(key) {
        None | Some(Value::Null) => Err(format!("missing required field '{path}'")),
        Some(Value::String(s)) if s.is_empty() => {
            Err(format!("missing required field '{path}' (it is empty)"))
        }
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!(
            "'{path}' must be a string, not {}",
            json_type(other)
        )),
    }
}

fn check(value: &str, path: &str, ok: fn(&str) -> bool, rule: &str) -> Result<(), String> {
    if ok(value) {
        Ok(())
    } else {
        Err(format!(
            "\"{path}\" is not valid; expected {rule} but found \"{value}\". {ADR}"
        ))
    }
}

/// The JSON type of `value` as messages name it (`string`, `object`, ...).
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`, 1 to 63 characters.
pub fn is_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

fn is_kind(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphabetic()
        && b.iter().all(u8::is_ascii_alphanumeric)
}

fn is_api_version(s: &str) -> bool {
    let suffix_ok =
        |x: &str| !x.is_empty() && x.len() <= 63 && x.bytes().all(|c| c.is_ascii_alphanumeric());
    match s.split_once('/') {
        None => suffix_ok(s),
        Some((prefix, suffix)) => is_dns_subdomain(prefix) && suffix_ok(suffix),
    }
}

fn is_prefixed_key(s: &str) -> bool {
    match s.split_once('/') {
        None => is_name(s),
        Some((prefix, name)) => is_dns_subdomain(prefix) && is_name(name),
    }
}

fn is_label_value(s: &str) -> bool {
    s.is_empty() || is_name(s)
}

/// `^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$`, 1 to 63 characters.
fn is_tag(s: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p.bytes().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b':' | b'+' | b'#')
            })
    };
    !s.is_empty() && s.len() <= 63 && s.split('-').all(part)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all() -> Vec<String> {
        crate::config::catalog::ALL_KINDS
            .iter()
            .map(|k| k.to_ascii_lowercase())
            .collect()
    }

    fn component(name: &str) -> Value {
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": name}, "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"}})
    }

    #[test]
    fn names_follow_backstage_rules() {
        for ok in ["a", "a-b_c.d", "A1", &"x".repeat(63)] {
            assert!(is_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a b", "ä", &"x".repeat(64)] {
            assert!(!is_name(bad), "{bad}");
        }
        assert!(is_dns_label("team-a") && !is_dns_label("Team") && !is_dns_label("a_b"));
        assert!(is_tag("java") && is_tag("c++") && !is_tag("Java") && !is_tag("a--b"));
        assert!(is_prefixed_key("backstage.io/managed-by-location") && !is_prefixed_key("a/b/c"));
        assert!(is_api_version("backstage.io/v1alpha1") && !is_api_version("a/b/c"));
    }

    #[test]
    fn namespace_defaults_and_arrays_are_sorted() {
        let mut v = component("svc");
        v["spec"]["dependsOn"] = json!(["resource:b", "resource:a"]);
        let e = validate(v, &all()).unwrap();
        assert_eq!(e["metadata"]["namespace"], "default");
        assert_eq!(e["spec"]["dependsOn"], json!(["resource:a", "resource:b"]));
    }

    #[test]
    fn each_rule_names_its_field() {
        let cases = [
            (
                json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {}}),
                "missing required field 'metadata.name'",
            ),
            (
                json!({"kind": "Component", "metadata": {"name": "a"}}),
                "missing required field 'apiVersion'",
            ),
            (
                json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "a"}, "spec": {"type": "s", "lifecycle": "l"}}),
                "missing required field 'spec.owner'",
            ),
            (
                json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "a b"}}),
                "\"metadata.name\" is not valid",
            ),
            (
                json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Widget", "metadata": {"name": "a"}}),
                "No processor recognized the entity widget:default/a",
            ),
            (
                json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": "a"}, "spec": {"type": "team"}}),
                "missing required field 'spec.children'",
            ),
            (
                json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "a"}, "relations": []}),
                "unknown field 'relations'",
            ),
            (
                json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "a", "tags": ["Java"]}}),
                "\"metadata.tags[0]\" is not valid",
            ),
            (
                json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "a", "labels": {"x": 1}}}),
                "'metadata.labels.x' must be a string",
            ),
            (
                json!(["a"]),
                "expected a mapping at the document root, got array",
            ),
        ];
        for (value, expected) in cases {
            let err = validate(value, &all()).unwrap_err();
            assert!(err.contains(expected), "{err} should contain {expected}");
        }
    }

    #[test]
    fn kinds_outside_the_rules_are_refused() {
        let err = validate(component("a"), &["api".into()]).unwrap_err();
        assert!(err.contains("kind 'Component' is not allowed"), "{err}");
    }
}
