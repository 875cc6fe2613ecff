//! Our schema rules against each version's official schema (devfile/api tags v2.0.0, v2.1.0,
//! v2.2.0, v2.2.2, copied under `tests/data/devfile-api/schemas`): every document is checked as
//! every version (2.2.1 with 2.2.0's schema and 2.3.0 with 2.2.2's, which are the same rules), and
//! so is every mutation of it. A field a version does not know, an endpoint name's length, 2.0.0's
//! plugins: each version's own verdict.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::devfile::{mutations, our_schema_verdict};

fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

/// Each version we check, and the schema file that states its rules.
const VERSIONS: &[(&str, &str)] = &[
    ("2.0.0", "2.0.0"),
    ("2.1.0", "2.1.0"),
    ("2.2.0", "2.2.0"),
    ("2.2.1", "2.2.0"),
    ("2.2.2", "2.2.2"),
    ("2.3.0", "2.2.2"),
];

fn oracle(schema: &str) -> jsonschema::Validator {
    let path = data(&format!("devfile-api/schemas/devfile-{schema}.json"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::draft7::new(&schema).unwrap()
}

fn documents() -> Vec<(String, Value)> {
    let files = [
        data("devfile-versions/fixture-2.0.0.yaml"),
        data("devfile-api/samples/with-nodejs-parent.devfile.yaml"),
        data("devfile-api/samples/nodejs-stack.devfile.yaml"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/suite/workspaces/fixture-devfile.yaml"),
    ];
    files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let options = serde_saphyr::options! { strict_booleans: true };
            let doc: Value = serde_saphyr::from_str_with_options(&text, options).unwrap();
            (path.display().to_string(), doc)
        })
        .collect()
}

fn as_version(doc: &Value, version: &str) -> Value {
    let mut doc = doc.clone();
    if doc.get("schemaVersion").is_some_and(Value::is_string) {
        doc["schemaVersion"] = json!(version);
    }
    doc
}

fn agree(oracle: &jsonschema::Validator, doc: &Value, what: &str) -> bool {
    let (ours, why) = our_schema_verdict(doc);
    let theirs = oracle.is_valid(doc);
    assert_eq!(
        ours,
        theirs,
        "{what}: ours={ours} ({why}) oracle={theirs} ({:?})\n{}",
        oracle
            .iter_errors(doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect::<Vec<_>>(),
        serde_json::to_string(doc)
            .unwrap()
            .chars()
            .take(400)
            .collect::<String>()
    );
    theirs
}

#[test]
fn every_document_as_every_version_gets_that_versions_verdict() {
    let mut verdicts = Vec::new();
    for (version, schema) in VERSIONS {
        let oracle = oracle(schema);
        for (name, doc) in documents() {
            let valid = agree(
                &oracle,
                &as_version(&doc, version),
                &format!("{name} as {version}"),
            );
            verdicts.push((name.rsplit('/').next().unwrap().to_owned(), *version, valid));
        }
    }
    let valid = |file: &str, version: &str| {
        verdicts
            .iter()
            .find(|(f, v, _)| f == file && *v == version)
            .unwrap()
            .2
    };
    // The cases the checks must see go both ways: 2.0.0's constructs only in 2.0.0, 2.2.2's only
    // from 2.2.2, and the parent sample (a 2.0.0 file) in every version.
    assert!(valid("fixture-2.0.0.yaml", "2.0.0"));
    assert!(!valid("fixture-2.0.0.yaml", "2.1.0"));
    assert!(valid("fixture-devfile.yaml", "2.2.2"));
    assert!(!valid("fixture-devfile.yaml", "2.2.1"));
    assert!(
        VERSIONS
            .iter()
            .all(|(v, _)| valid("with-nodejs-parent.devfile.yaml", v))
    );
}

#[test]
fn every_mutation_as_every_version_gets_that_versions_verdict() {
    let mut checked = 0;
    let mut refused = 0;
    for (version, schema) in VERSIONS {
        let oracle = oracle(schema);
        for (name, doc) in documents() {
            let doc = as_version(&doc, version);
            for mutant in mutations(&doc) {
                checked += 1;
                refused += usize::from(!agree(&oracle, &mutant, &format!("{name} as {version}")));
            }
        }
    }
    assert!(
        checked > 10_000 && refused > 3_000,
        "{checked} mutations, {refused} refused"
    );
}
