//! The devfile JSON schema's rules, per `schemaVersion`, written as a small tree of [`Node`]s
//! that mirrors each version's official schema (`devfile/api` `schemas/latest/devfile.json` at tags
//! v2.0.0, v2.1.0, v2.2.0 and v2.2.2, copied under `tests/data/devfile-api/schemas`). Those schemas
//! are the tests' oracles, on every test file and on mutations of them in every version, so this
//! tree and the schemas must agree.
//!
//! What differs between versions is listed in [`tree`].

use serde_json::Value;

mod tree;

use super::{Path, Violation};
pub use tree::root;

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, the schema's identifier pattern.
pub const ID_PATTERN: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const SEMVER_PATTERN: &str = r"^([0-9]+)\.([0-9]+)\.([0-9]+)(\-[0-9a-z-]+(\.[0-9a-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$";
const PARENT_VERSION_PATTERN: &str = r"^(latest)|(([1-9])\.([0-9]+)\.([0-9]+)(\-[0-9a-z-]+(\.[0-9a-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)$";
const GROUP_KINDS_2_2: &[&str] = &["build", "run", "test", "debug", "deploy"];
const GROUP_KINDS_2_0: &[&str] = &["build", "run", "test", "debug"];

/// One schema node.
pub enum Node {
    /// A mapping with any content (free-form `attributes`).
    AnyMap,
    /// A string.
    Str,
    /// A boolean.
    Bool,
    /// An integer.
    Int,
    /// A string matching [`ID_PATTERN`], at most `max` characters.
    Id {
        /// The longest value allowed.
        max: usize,
    },
    /// A string matching a pattern, checked by the function.
    Pattern(&'static str, fn(&str) -> bool),
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// An array of these.
    Array(Box<Node>),
    /// An array of distinct items.
    Set(Box<Node>),
    /// An object whose values are strings (`variables`, git `remotes`, annotations).
    StrMap,
    /// An object with known fields.
    Object(Obj),
}

/// An object: its known fields, which are required, which exactly one of must be present
/// (`oneOf` over `required` alternatives), and whether other fields are allowed.
pub struct Obj {
    fields: Vec<(&'static str, Node)>,
    required: Vec<&'static str>,
    one_of: Vec<&'static str>,
    open: bool,
}

fn obj(fields: Vec<(&'static str, Node)>) -> Obj {
    Obj {
        fields,
        required: Vec::new(),
        one_of: Vec::new(),
        open: false,
    }
}

impl Obj {
    fn required(mut self, names: &[&'static str]) -> Obj {
        self.required.extend_from_slice(names);
        self
    }
    fn one_of(mut self, names: &[&'static str]) -> Obj {
        self.one_of.extend_from_slice(names);
        self
    }
    fn open(mut self) -> Obj {
        self.open = true;
        self
    }
    fn node(self) -> Node {
        Node::Object(self)
    }
}

fn arr(node: Node) -> Node {
    Node::Array(Box::new(node))
}

fn strs() -> Node {
    arr(Node::Str)
}

/// Walks `value` against `node`, appending every violation.
pub fn check(node: &Node, value: &Value, path: &mut Path, out: &mut Vec<Violation>) {
    match node {
        Node::AnyMap => {
            expect_type(value, "a mapping", Value::is_object, path, out);
        }
        Node::Str => {
            expect_type(value, "a string", Value::is_string, path, out);
        }
        Node::Bool => {
            expect_type(value, "a boolean", Value::is_boolean, path, out);
        }
        Node::Int => {
            expect_type(value, "an integer", is_integer, path, out);
        }
        Node::Id { max } => {
            if let Some(s) = as_str(value, path, out) {
                if !is_id(s) {
                    out.push(path.schema(format!("'{s}' must match {ID_PATTERN}")));
                } else if s.chars().count() > *max {
                    out.push(path.schema(format!(
                        "'{s}' must be at most {max} characters (it has {})",
                        s.chars().count()
                    )));
                }
            }
        }
        Node::Pattern(pattern, matches) => {
            if let Some(s) = as_str(value, path, out)
                && !matches(s)
            {
                out.push(path.schema(format!("'{s}' must match {pattern}")));
            }
        }
        Node::Enum(allowed) => {
            if let Some(s) = as_str(value, path, out)
                && !allowed.contains(&s)
            {
                out.push(path.schema(format!("'{s}' must be one of: {}", allowed.join(", "))));
            }
        }
        Node::Array(item) | Node::Set(item) => {
            let Some(items) = value.as_array() else {
                out.push(path.schema(format!("must be a list, not {}", kind(value))));
                return;
            };
            if matches!(node, Node::Set(_)) {
                for (i, a) in items.iter().enumerate() {
                    if items[..i].contains(a) {
                        out.push(path.schema(format!("must not repeat {a}")));
                    }
                }
            }
            for (i, v) in items.iter().enumerate() {
                path.index(i);
                check(item, v, path, out);
                path.pop();
            }
        }
        Node::StrMap => {
            let Some(map) = value.as_object() else {
                out.push(path.schema(format!("must be a mapping, not {}", kind(value))));
                return;
            };
            for (k, v) in map {
                path.key(k);
                expect_type(v, "a string", Value::is_string, path, out);
                path.pop();
            }
        }
        Node::Object(o) => check_object(o, value, path, out),
    }
}

fn check_object(o: &Obj, value: &Value, path: &mut Path, out: &mut Vec<Violation>) {
    let Some(map) = value.as_object() else {
        out.push(path.schema(format!("must be a mapping, not {}", kind(value))));
        return;
    };
    for name in &o.required {
        if !map.contains_key(*name) {
            path.key(name);
            out.push(path.schema("is required".to_owned()));
            path.pop();
        }
    }
    if !o.one_of.is_empty() {
        let present: Vec<&str> = o
            .one_of
            .iter()
            .copied()
            .filter(|k| map.contains_key(*k))
            .collect();
        if present.len() != 1 {
            let has = if present.is_empty() {
                "none".to_owned()
            } else {
                present.join(" and ")
            };
            out.push(path.schema(format!(
                "must have exactly one of: {} (it has {has})",
                o.one_of.join(", ")
            )));
        }
    }
    for (k, v) in map {
        path.key(k);
        match o.fields.iter().find(|(name, _)| name == k) {
            Some((_, node)) => check(node, v, path, out),
            None if o.open => {}
            None => out.push(path.schema("is not allowed here (unknown field)".to_owned())),
        }
        path.pop();
    }
}

fn expect_type(
    value: &Value,
    what: &str,
    ok: fn(&Value) -> bool,
    path: &Path,
    out: &mut Vec<Violation>,
) {
    if !ok(value) {
        out.push(path.schema(format!("must be {what}, not {}", kind(value))));
    }
}

fn as_str<'v>(value: &'v Value, path: &Path, out: &mut Vec<Violation>) -> Option<&'v str> {
    let s = value.as_str();
    if s.is_none() {
        out.push(path.schema(format!("must be a string, not {}", kind(value))));
    }
    s
}

/// JSON Schema's integer: a number with no fractional part.
fn is_integer(value: &Value) -> bool {
    value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
}

/// How a value reads in a message.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "empty (null)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Whether `s` matches [`ID_PATTERN`] (a DNS-1123 label, without the length limit).
pub fn is_id(s: &str) -> bool {
    crate::names::matches_label_pattern(s)
}

/// Whether `s` matches the schema's semver pattern; with `single_digit_major`, the major must
/// be one digit in `min_major..=9`.
pub fn semver_with(s: &str, major: Option<std::ops::RangeInclusive<u8>>) -> bool {
    let (core, build) = match s.split_once('+') {
        Some((core, build)) => (core, Some(build)),
        None => (s, None),
    };
    let (numbers, pre) = match core.split_once('-') {
        Some((numbers, pre)) => (numbers, Some(pre)),
        None => (core, None),
    };
    let parts: Vec<&str> = numbers.split('.').collect();
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if parts.len() != 3 || !parts.iter().all(|p| digits(p)) {
        return false;
    }
    if let Some(range) = major {
        let first = parts[0].as_bytes();
        if first.len() != 1 || !range.contains(&(first[0] - b'0')) {
            return false;
        }
    }
    let dotted = |text: &str, extra: fn(u8) -> bool| {
        text.split('.').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || extra(b))
        })
    };
    pre.is_none_or(|p| dotted(p, |_| false))
        && build.is_none_or(|b| dotted(b, |c| c.is_ascii_uppercase()))
}

fn is_semver(s: &str) -> bool {
    semver_with(s, None)
}

/// The schemaVersion pattern: semver with a major of 2 to 9.
pub fn is_schema_version(s: &str) -> bool {
    semver_with(s, Some(2..=9))
}

/// The parent `version` pattern, whose alternation binds loosely: a value starting with `latest`,
/// or ending in a semver whose major is 1 to 9.
fn is_parent_version(s: &str) -> bool {
    s.starts_with("latest")
        || s.char_indices()
            .any(|(i, c)| c.is_ascii_digit() && semver_with(&s[i..], Some(1..=9)))
}
