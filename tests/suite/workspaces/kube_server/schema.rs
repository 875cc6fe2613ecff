//! What the API server checks on an object written to it: ObjectMeta (name, labels, annotations,
//! owner references) and, for DevWorkspaces and DevWorkspaceTemplates, the real CRD schema
//! (`tests/data/devworkspace-operator`, the `v1alpha2` storage version) with unknown fields refused
//! (`fieldValidation=Strict`; by default the server would drop them silently, which is the same
//! bug for us).

use std::path::Path;
use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The CRD's `v1alpha2` schema, made strict, compiled once per kind.
fn validator(plural: &str) -> Option<&'static jsonschema::Validator> {
    static DW: OnceLock<jsonschema::Validator> = OnceLock::new();
    static DWT: OnceLock<jsonschema::Validator> = OnceLock::new();
    let (cell, file) = match plural {
        "devworkspaces" => (
            &DW,
            "devworkspaces.workspace.devfile.io.CustomResourceDefinition.yaml",
        ),
        "devworkspacetemplates" => (
            &DWT,
            "devworkspacetemplates.workspace.devfile.io.CustomResourceDefinition.yaml",
        ),
        _ => return None,
    };
    Some(cell.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/devworkspace-operator")
            .join(file);
        let crd: Value =
            serde_saphyr::from_str(&std::fs::read_to_string(path).expect("the CRD file")).unwrap();
        let version = crd["spec"]["versions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "v1alpha2")
            .expect("v1alpha2 in the CRD");
        let mut schema = version["schema"]["openAPIV3Schema"].clone();
        strict(&mut schema);
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(false)
            .build(&schema)
            .unwrap()
    }))
}

/// Reads and compiles both CRDs' schemas (once per process).
pub fn load() {
    validator("devworkspaces");
    validator("devworkspacetemplates");
}

/// Objects that list their properties refuse others, unless they preserve unknown fields.
fn strict(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let preserve =
                map.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
            if map.contains_key("properties")
                && !map.contains_key("additionalProperties")
                && !preserve
            {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (_, v) in map.iter_mut() {
                strict(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

/// A DNS-1123 subdomain (object names).
fn subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

/// A label value: at most 63 characters, alphanumeric at both ends, `-_.` inside.
fn label_value(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() <= 63
        && (b.is_empty()
            || (b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c))))
}

/// Every problem the API server would find with `object`, as `(field, message)`.
pub fn problems(plural: &str, object: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let metadata = object
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let name = metadata
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !subdomain(name) {
        out.push(("metadata.name".into(), format!("Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'")));
    }
    let empty = Map::new();
    let labels = metadata
        .get("labels")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (key, value) in labels {
        let value = value.as_str().unwrap_or("<not a string>");
        if !label_value(value) {
            out.push((format!("metadata.labels: Invalid value: \"{value}\""), format!("label {key}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and at most 63 characters")));
        }
    }
    let annotations = metadata
        .get("annotations")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let size: usize = annotations
        .iter()
        .map(|(k, v)| k.len() + v.as_str().map_or(usize::MAX / 4, str::len))
        .sum();
    if size > 256 * 1024 {
        out.push((
            "metadata.annotations".into(),
            "Too long: must have at most 262144 bytes".into(),
        ));
    }
    for (i, reference) in metadata
        .get("ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        for field in ["apiVersion", "kind", "name", "uid"] {
            if reference
                .get(field)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                out.push((
                    format!("metadata.ownerReferences[{i}].{field}"),
                    "Required value".into(),
                ));
            }
        }
    }
    if let Some(validator) = validator(plural) {
        for error in validator.iter_errors(object) {
            out.push((error.instance_path().to_string(), error.to_string()));
        }
    }
    out
}
