//! Devfile parsing and validation, our own code: the schema rules of the file's own
//! `schemaVersion` (2.0.0 to 2.3.x, [`schema`]) and devfile/library's further rules ([`rules`]).
//! Several default commands in one group are accepted with a warning, as Che accepts them.
//!
//! [`parse`] turns YAML text into a [`Devfile`] or the first [`Violation`], worded as
//! `components[1].name 'Python' must match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`.

pub mod flatten;
mod path;
pub mod quantity;
pub mod rules;
pub mod schema;

use std::fmt;
use std::sync::OnceLock;

use serde_json::Value;

pub use path::Path;

/// A devfile that passed validation.
#[derive(Debug, Clone)]
pub struct Devfile {
    /// The document as JSON.
    pub document: Value,
    /// Its `schemaVersion`.
    pub schema_version: SchemaVersion,
    /// `metadata.name`, when present.
    pub name: Option<String>,
    /// `metadata.version`, when present.
    pub version: Option<String>,
    /// Accepted but worth telling the user (e.g. several default commands in a group).
    pub warnings: Vec<String>,
}

/// Why a devfile was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DevfileError {
    /// Not a YAML mapping; the parser's message.
    #[error("not YAML: {0}")]
    NotYaml(String),
    /// A rule broken: the first one found.
    #[error("{0}")]
    Invalid(Violation),
}

/// One broken rule: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where, as a dotted path (`components[0].container`); empty for the document.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// Whether the official JSON schema has this rule (as opposed to devfile/library's rules).
    pub from_schema: bool,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else if self.message.starts_with(':') {
            write!(f, "{}{}", self.path, self.message)
        } else {
            write!(f, "{} {}", self.path, self.message)
        }
    }
}

/// A devfile `schemaVersion` we support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SchemaVersion {
    /// The major version.
    pub major: u32,
    /// The minor version.
    pub minor: u32,
    /// The patch version.
    pub patch: u32,
}

impl SchemaVersion {
    /// Whether this version is `major.minor.patch` or later.
    pub fn at_least(self, major: u32, minor: u32, patch: u32) -> bool {
        (self.major, self.minor, self.patch) >= (major, minor, patch)
    }

    /// 2.0.0, 2.1.0, 2.2.0 to 2.2.2 and 2.3.x, as devfile/library and Che's generator know them.
    fn supported(self) -> bool {
        matches!(
            (self.major, self.minor, self.patch),
            (2, 0, 0) | (2, 1, 0) | (2, 2, 0..=2) | (2, 3, _)
        )
    }
}

impl fmt::Display for SchemaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Parses and validates devfile YAML. YAML 1.2 core types, as Che's dashboard reads devfiles
/// (js-yaml): `yes`, `on` and `y` are strings, only `true`/`false` are booleans. A devfile with a
/// parent is checked as it is here; [`read`] and [`finish`] check it flattened.
pub fn parse(text: &str) -> Result<Devfile, DevfileError> {
    validate(yaml(text)?)
}

fn yaml(text: &str) -> Result<Value, DevfileError> {
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let message = e.to_string();
        DevfileError::NotYaml(message.lines().next().unwrap_or_default().to_owned())
    })
}

/// Validates a parsed document: the first violation, or the devfile with its warnings.
pub fn validate(document: Value) -> Result<Devfile, DevfileError> {
    let version = schema_checked(&document)?;
    let flat = document.clone();
    finish_checked(document, version, &flat)
}

/// Parses devfile YAML and checks it against its own version's schema only: a document whose
/// parent is still to be merged ([`flatten`]) before [`finish`].
pub fn read(text: &str) -> Result<Value, DevfileError> {
    let document = yaml(text)?;
    schema_checked(&document)?;
    Ok(document)
}

/// devfile/library's rules on `flat` (the document [`read`] gave, its parent merged in): the
/// devfile, which keeps the `document` as written.
pub fn finish(document: Value, flat: &Value) -> Result<Devfile, DevfileError> {
    let version = schema_checked(&document)?;
    finish_checked(document, version, flat)
}

fn schema_checked(document: &Value) -> Result<SchemaVersion, DevfileError> {
    let version = schema_version(document).map_err(DevfileError::Invalid)?;
    let mut errors = Vec::new();
    schema::check(tree(version), document, &mut Path::default(), &mut errors);
    match errors.into_iter().next() {
        Some(first) => Err(DevfileError::Invalid(first)),
        None => Ok(version),
    }
}

fn finish_checked(
    document: Value,
    version: SchemaVersion,
    flat: &Value,
) -> Result<Devfile, DevfileError> {
    let mut findings = Findings {
        version: Some(version),
        ..Findings::default()
    };
    rules::check(flat, version, &mut findings);
    if let Some(first) = findings.errors.into_iter().next() {
        return Err(DevfileError::Invalid(first));
    }
    let metadata = document.get("metadata");
    let text = |key: &str| {
        metadata
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Ok(Devfile {
        name: text("name"),
        version: text("version"),
        schema_version: version,
        warnings: findings.warnings,
        document,
    })
}

/// Everything found in a document: schema errors first, then devfile/library's rules (only run
/// when the schema holds, as the library does).
#[derive(Debug, Default)]
pub struct Findings {
    /// The `schemaVersion`, once it is known to be supported.
    pub version: Option<SchemaVersion>,
    /// Rules broken.
    pub errors: Vec<Violation>,
    /// Accepted quirks worth telling the user.
    pub warnings: Vec<String>,
}

/// All findings on `document`.
pub fn check(document: &Value) -> Findings {
    let mut findings = Findings::default();
    let version = match schema_version(document) {
        Ok(version) => version,
        Err(violation) => {
            findings.errors.push(violation);
            return findings;
        }
    };
    findings.version = Some(version);
    let mut path = Path::default();
    schema::check(tree(version), document, &mut path, &mut findings.errors);
    if findings.errors.is_empty() {
        rules::check(document, version, &mut findings);
    }
    findings
}

fn schema_version(document: &Value) -> Result<SchemaVersion, Violation> {
    let mut path = Path::default();
    let Some(map) = document.as_object() else {
        return Err(path.schema(format!(
            "a devfile must be a YAML mapping, not {}",
            schema::kind(document)
        )));
    };
    path.key("schemaVersion");
    let Some(value) = map.get("schemaVersion") else {
        return Err(path.schema("is required".into()));
    };
    let Some(text) = value.as_str() else {
        return Err(path.schema(format!(
            "must be a string, not {} (quote it: schemaVersion: \"2.2.2\")",
            schema::kind(value)
        )));
    };
    if !schema::is_schema_version(text) {
        return Err(path.schema(format!(
            "'{text}' must match ^([2-9])\\.([0-9]+)\\.([0-9]+)(\\-[0-9a-z-]+(\\.[0-9a-z-]+)*)?(\\+[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?$"
        )));
    }
    // As devfile/library: drop any pre-release or build suffix, then pick the version's rules.
    let core = text.split(['-', '+']).next().unwrap_or(text);
    let mut numbers = core
        .split('.')
        .map(|n| n.parse::<u32>().unwrap_or(u32::MAX));
    let version = SchemaVersion {
        major: numbers.next().unwrap_or_default(),
        minor: numbers.next().unwrap_or_default(),
        patch: numbers.next().unwrap_or_default(),
    };
    if !version.supported() {
        return Err(path.schema(format!(
            "'{text}' is not supported: use 2.0.0, 2.1.0, 2.2.0 to 2.2.2 or 2.3.x"
        )));
    }
    Ok(version)
}

/// The schema tree for `version`, built once per rule set.
fn tree(version: SchemaVersion) -> &'static schema::Node {
    static TREES: [OnceLock<schema::Node>; 4] = [const { OnceLock::new() }; 4];
    let (slot, representative) = if version.at_least(2, 2, 2) {
        (
            0,
            SchemaVersion {
                major: 2,
                minor: 2,
                patch: 2,
            },
        )
    } else if version.at_least(2, 2, 0) {
        (
            1,
            SchemaVersion {
                major: 2,
                minor: 2,
                patch: 0,
            },
        )
    } else if version.at_least(2, 1, 0) {
        (
            2,
            SchemaVersion {
                major: 2,
                minor: 1,
                patch: 0,
            },
        )
    } else {
        (
            3,
            SchemaVersion {
                major: 2,
                minor: 0,
                patch: 0,
            },
        )
    };
    TREES[slot].get_or_init(|| schema::root(representative))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> String {
        match parse(text) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted: {text}"),
        }
    }

    #[test]
    fn a_group_of_commands_without_a_default_is_a_warning() {
        let text = "schemaVersion: 2.2.2\ncomponents:\n  - name: tools\n    container: {image: x}\ncommands:\n  - id: a\n    exec: {component: tools, commandLine: make, group: {kind: build}}\n  - id: b\n    exec: {component: tools, commandLine: make b, group: {kind: build}}\n";
        let devfile = parse(text).expect("a warning, not an error");
        assert_eq!(
            devfile.warnings,
            vec!["command group build has 2 commands but no default (isDefault: true); tools pick one themselves".to_owned()]
        );
    }

    #[test]
    fn shared_pod_annotations_may_not_conflict() {
        let doc = |dedicated: &str, value: &str| {
            format!(
                "schemaVersion: 2.2.2\ncomponents:\n  - name: a\n    container:\n      image: x\n      dedicatedPod: {dedicated}\n      annotation: {{deployment: {{team: blue}}}}\n  - name: b\n    container:\n      image: y\n      dedicatedPod: {dedicated}\n      annotation: {{deployment: {{team: {value}}}}}\n"
            )
        };
        let error = refused(&doc("false", "green"));
        assert!(
            error.contains("components[1].container.annotation.deployment.team"),
            "{error}"
        );
        assert!(
            error.contains("different values in components a and b"),
            "{error}"
        );
        assert!(
            parse(&doc("false", "blue")).is_ok(),
            "same value: no conflict"
        );
        assert!(
            parse(&doc("true", "green")).is_ok(),
            "dedicated pods do not share annotations"
        );
    }

    #[test]
    fn the_issue_example_message() {
        let text = "schemaVersion: 2.2.2\ncomponents:\n  - name: tools\n    container: {image: x}\n  - name: Python\n    container: {image: y}\n";
        assert_eq!(
            refused(text),
            "components[1].name 'Python' must match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
        );
    }

    #[test]
    fn versions_pick_their_own_rules() {
        let long = "schemaVersion: VERSION\ncomponents:\n  - name: tools\n    container:\n      image: x\n      endpoints:\n        - {name: a-twenty-char-endpoint, targetPort: 8080}\n";
        // Each version's own schema: 63 characters before 2.2.0, 15 from it.
        assert!(parse(&long.replace("VERSION", "2.0.0")).is_ok());
        assert!(parse(&long.replace("VERSION", "2.1.0")).is_ok());
        assert!(refused(&long.replace("VERSION", "2.2.0")).contains("at most 15"));
        assert!(refused(&long.replace("VERSION", "2.2.2")).contains("at most 15"));
        // Metadata is open: a field a version does not know is not checked in it.
        let arch = "schemaVersion: VERSION\nmetadata:\n  architectures: [x86]\n";
        assert!(parse(&arch.replace("VERSION", "2.1.0")).is_ok());
        assert!(refused(&arch.replace("VERSION", "2.2.0")).contains("'x86' must be one of"));
        // 2.0.0's plugin components and no top-level attributes.
        let plugin = "schemaVersion: VERSION\ncomponents:\n  - name: p\n    plugin: {uri: https://x/p.yaml}\n";
        assert!(parse(&plugin.replace("VERSION", "2.0.0")).is_ok());
        assert!(refused(&plugin.replace("VERSION", "2.1.0")).contains("it has none"));
        assert!(refused("schemaVersion: 2.0.0\nattributes: {a: 1}\n").contains("unknown field"));
        let deploy = "schemaVersion: VERSION\ncomponents:\n  - name: k\n    kubernetes: {uri: deploy.yaml}\ncommands:\n  - id: d\n    apply: {component: k, group: {kind: deploy}}\n";
        assert!(parse(&deploy.replace("VERSION", "2.2.0")).is_ok());
        assert!(refused(&deploy.replace("VERSION", "2.1.0")).contains("'deploy' must be one of"));
        let dependent = "schemaVersion: VERSION\ndependentProjects:\n  - name: p\n    zip: {location: https://x/p.zip}\n";
        assert!(parse(&dependent.replace("VERSION", "2.2.2")).is_ok());
        assert!(parse(&dependent.replace("VERSION", "2.3.0")).is_ok());
        assert!(refused(&dependent.replace("VERSION", "2.2.1")).contains("unknown field"));
        assert!(refused("schemaVersion: 2.4.0\n").contains("not supported"));
        assert!(refused("schemaVersion: 1.0.0\n").contains("must match"));
        assert!(parse("schemaVersion: 2.2.2-alpha\n").is_ok());
    }

    #[test]
    fn yaml_types_are_schema_types() {
        assert!(refused("schemaVersion: 2.2\n").contains("must be a string, not a number"));
        assert!(
            refused("schemaVersion: 2.2.2\nmetadata:\n  version: 1.0\n")
                .contains("metadata.version must be a string")
        );
        assert!(matches!(parse("a: [\n"), Err(DevfileError::NotYaml(_))));
        assert!(refused("- a\n").contains("must be a YAML mapping"));
        // YAML 1.2, as Che: `y` and `yes` are strings.
        assert!(parse("schemaVersion: 2.2.2\nmetadata: {name: yes}\n").is_ok());
    }
}
