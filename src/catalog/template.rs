//! The `scaffolder.backstage.io/v1beta3` Template's rules: Backstage's
//! `Template.v1beta3.schema.json` (`plugins/scaffolder-common`), written as checks on the entity.
//! The official schema is the oracle of the tests (`tests/data/backstage`), so the two must agree.
//!
//! The schema allows unknown keys at every level; it types only what the scaffolder reads. Messages
//! follow the schema validator Backstage uses: a JSON pointer, then what the value must be.

use serde_json::{Map, Value};

/// Checks `spec` of a v1beta3 Template; the first violation, as Backstage reports only its first.
pub fn check_template(spec: Option<&Value>) -> Result<(), String> {
    let Some(spec) = spec else {
        return Err("<root> must have required property 'spec'".into());
    };
    let spec = object(spec, "/spec")?;
    for field in ["type", "steps"] {
        if !spec.contains_key(field) {
            return Err(format!("/spec must have required property '{field}'"));
        }
    }
    for field in ["type", "owner", "lifecycle"] {
        non_empty_string(spec.get(field), &format!("/spec/{field}"))?;
    }
    if let Some(parameters) = spec.get("parameters") {
        match parameters {
            Value::Object(p) => permissions(p, "/spec/parameters")?,
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let at = format!("/spec/parameters/{i}");
                    let item = object(item, &at)?;
                    string_or_boolean(item.get("when"), &format!("{at}/when"))?;
                    permissions(item, &at)?;
                }
            }
            _ => return Err("/spec/parameters must match exactly one schema in oneOf".into()),
        }
    }
    if let Some(secrets) = spec.get("secrets") {
        let secrets = object(secrets, "/spec/secrets")?;
        optional_object(secrets.get("schema"), "/spec/secrets/schema")?;
    }
    if let Some(presentation) = spec.get("presentation") {
        let presentation = object(presentation, "/spec/presentation")?;
        if let Some(labels) = presentation.get("buttonLabels") {
            let labels = object(labels, "/spec/presentation/buttonLabels")?;
            for field in ["backButtonText", "createButtonText", "reviewButtonText"] {
                string(
                    labels.get(field),
                    &format!("/spec/presentation/buttonLabels/{field}"),
                )?;
            }
        }
    }
    if let Some(recovery) = spec.get("EXPERIMENTAL_recovery") {
        let recovery = object(recovery, "/spec/EXPERIMENTAL_recovery")?;
        string(
            recovery.get("EXPERIMENTAL_strategy"),
            "/spec/EXPERIMENTAL_recovery/EXPERIMENTAL_strategy",
        )?;
    }
    for field in ["formDecorators", "EXPERIMENTAL_formDecorators"] {
        for (at, item) in array_of_objects(spec.get(field), &format!("/spec/{field}"))? {
            string(item.get("id"), &format!("{at}/id"))?;
            optional_object(item.get("input"), &format!("{at}/input"))?;
        }
    }
    let steps = array_of_objects(spec.get("steps"), "/spec/steps")?;
    for (at, step) in steps {
        if !step.contains_key("action") {
            return Err(format!("{at} must have required property 'action'"));
        }
        for field in ["id", "name", "action"] {
            string(step.get(field), &format!("{at}/{field}"))?;
        }
        optional_object(step.get("input"), &format!("{at}/input"))?;
        string_or_boolean(step.get("if"), &format!("{at}/if"))?;
        permissions(step, &at)?;
    }
    if let Some(output) = spec.get("output") {
        check_output(object(output, "/spec/output")?)?;
    }
    Ok(())
}

fn check_output(output: &Map<String, Value>) -> Result<(), String> {
    for (key, value) in output {
        let at = format!("/spec/output/{key}");
        match key.as_str() {
            "links" => {
                for (at, link) in array_of_objects(Some(value), &at)? {
                    string_or_boolean(link.get("if"), &format!("{at}/if"))?;
                    string(link.get("title"), &format!("{at}/title"))?;
                    for field in ["url", "entityRef", "icon"] {
                        non_empty_string(link.get(field), &format!("{at}/{field}"))?;
                    }
                }
            }
            "text" => {
                for (at, text) in array_of_objects(Some(value), &at)? {
                    string_or_boolean(text.get("if"), &format!("{at}/if"))?;
                    string(text.get("title"), &format!("{at}/title"))?;
                    non_empty_string(text.get("icon"), &format!("{at}/icon"))?;
                    string(text.get("content"), &format!("{at}/content"))?;
                }
            }
            _ => string(Some(value), &at)?,
        }
    }
    Ok(())
}

/// `backstage:permissions` of a step or parameters object: `{tags?: string[]}`.
fn permissions(parent: &Map<String, Value>, at: &str) -> Result<(), String> {
    let Some(value) = parent.get("backstage:permissions") else {
        return Ok(());
    };
    let at = format!("{at}/backstage:permissions");
    let permissions = object(value, &at)?;
    if let Some(tags) = permissions.get("tags") {
        let Value::Array(tags) = tags else {
            return Err(format!("{at}/tags must be array"));
        };
        for (i, tag) in tags.iter().enumerate() {
            string(Some(tag), &format!("{at}/tags/{i}"))?;
        }
    }
    Ok(())
}

fn object<'a>(value: &'a Value, at: &str) -> Result<&'a Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{at} must be object"))
}

fn optional_object(value: Option<&Value>, at: &str) -> Result<(), String> {
    value.map_or(Ok(()), |v| object(v, at).map(|_| ()))
}

/// Objects of an array, each with its JSON pointer.
type Objects<'a> = Vec<(String, &'a Map<String, Value>)>;

/// The items of an optional array of objects, each with its pointer.
fn array_of_objects<'a>(value: Option<&'a Value>, at: &str) -> Result<Objects<'a>, String> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = value else {
        return Err(format!("{at} must be array"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("{at}/{i}");
            object(item, &at).map(|o| (at, o))
        })
        .collect()
}

fn string(value: Option<&Value>, at: &str) -> Result<(), String> {
    match value {
        None | Some(Value::String(_)) => Ok(()),
        Some(_) => Err(format!("{at} must be string")),
    }
}

fn non_empty_string(value: Option<&Value>, at: &str) -> Result<(), String> {
    string(value, at)?;
    match value {
        Some(Value::String(s)) if s.is_empty() => {
            Err(format!("{at} must NOT have fewer than 1 characters"))
        }
        _ => Ok(()),
    }
}

fn string_or_boolean(value: Option<&Value>, at: &str) -> Result<(), String> {
    match value {
        None | Some(Value::String(_) | Value::Bool(_)) => Ok(()),
        Some(_) => Err(format!("{at} must be string,boolean")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn steps_are_objects_with_an_action() {
        let ok = json!({"type": "service", "steps": [
            {"id": "fetch", "name": "Fetch", "action": "fetch:template", "input": {"url": "./s"}, "if": true},
        ], "parameters": [{"title": "x", "properties": {}}], "output": {"links": [{"title": "Repo", "url": "${{ x }}"}], "x": "y"}});
        check_template(Some(&ok)).unwrap();
        let cases = [
            (
                json!({"type": "s", "steps": ["fetch-base"]}),
                "/spec/steps/0 must be object",
            ),
            (
                json!({"type": "s", "steps": [{"id": "a"}]}),
                "/spec/steps/0 must have required property 'action'",
            ),
            (
                json!({"steps": []}),
                "/spec must have required property 'type'",
            ),
            (
                json!({"type": "", "steps": []}),
                "/spec/type must NOT have fewer than 1 characters",
            ),
            (
                json!({"type": "s", "steps": [], "output": {"n": 1}}),
                "/spec/output/n must be string",
            ),
            (
                json!({"type": "s", "steps": [], "parameters": "x"}),
                "/spec/parameters must match exactly one schema in oneOf",
            ),
        ];
        for (spec, message) in cases {
            assert_eq!(check_template(Some(&spec)).unwrap_err(), message);
        }
    }
}
