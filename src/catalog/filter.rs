//! The query-string filter grammar (Backstage's `filter` query parameter) and the `fields` projection (Backstage's `fields`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// One condition on a search key: it exists, equals one of the values, or starts with a prefix
/// (values and prefix lower-cased); or the entity does not satisfy the inner condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The entity has the key, whatever its value.
    Exists,
    /// An empty list matches nothing.
    In(Vec<String>),
    /// Some value of the key starts with this (lower-cased) prefix.
    Prefix(String),
    /// Never nests a `Not`.
    Not(Box<Condition>),
}

impl Condition {
    /// Whether an entity with these search rows satisfies this condition on `key`.
    pub fn holds(&self, key: &str, rows: &[crate::catalog::search::SearchRow]) -> bool {
        let mut values = rows
            .iter()
            .filter(|r| r.key == key)
            .filter_map(|r| r.value.as_deref());
        match self {
            Condition::Exists => rows.iter().any(|r| r.key == key),
            Condition::In(wanted) => values.any(|v| wanted.iter().any(|w| w == v)),
            Condition::Prefix(prefix) => values.any(|v| v.starts_with(prefix.as_str())),
            Condition::Not(inner) => !inner.holds(key, rows),
        }
    }

    /// The opposite condition.
    pub fn negated(self) -> Condition {
        match self {
            Condition::Not(inner) => *inner,
            other => Condition::Not(Box::new(other)),
        }
    }
}

/// Bounds on one filter, whether from the query string or a JSON predicate, so that no request
/// can make a statement (or its parsing) cost without limit: 30,000 names in one `$in` took
/// SQLite 8 to 56 s and held a read connection all along. Each refusal is a 400 naming the bound.
pub mod limits {
    /// Values one key may be compared with (`$in`, or the same key repeated in a `filter`).
    pub const MAX_VALUES: usize = 1000;
    /// Conditions and values in a whole filter, once `$any` and `$not` are expanded.
    pub const MAX_TERMS: usize = 2000;
    /// Alternatives (OR'ed AND-sets) a filter may have or a predicate expand to.
    pub const MAX_ALTERNATIVES: usize = 256;
    /// Keys in one predicate object, or in one `filter` parameter.
    pub const MAX_KEYS: usize = 64;
    /// Nesting of `$all`, `$any` and `$not`.
    pub const MAX_DEPTH: usize = 16;
    /// Paths in `fields`, and search keys of a full-text filter.
    pub const MAX_FIELDS: usize = 100;
    /// Order fields of one query (each costs a lookup per matching entity).
    pub const MAX_ORDER_FIELDS: usize = 8;
    /// Entity refs of one `POST /entities/by-refs`.
    pub const MAX_REFS: usize = 10_000;
}

/// OR of sets; each set is an AND of `(key, condition)`. An empty filter matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// The sets, any of which may match.
    pub any_of: Vec<Vec<(String, Condition)>>,
}

impl Filter {
    /// Parses every `filter` parameter. Blank sets are ignored; the same key twice in one set is OR.
    pub fn parse(params: &[String]) -> Result<Filter, String> {
        let statements: usize = params.iter().map(|p| p.matches(',').count() + 1).sum();
        if statements > limits::MAX_TERMS {
            return Err(format!(
                "Invalid filter: {statements} statements; at most {} are allowed in one query",
                limits::MAX_TERMS
            ));
        }
        let mut any_of = Vec::new();
        for param in params {
            let mut set: BTreeMap<String, Condition> = BTreeMap::new();
            for statement in param.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let (key, value) = match statement.split_once('=') {
                    Some((k, v)) => (k.trim(), Some(v.trim())),
                    None => (statement, None),
                };
                if key.is_empty() {
                    return Err(format!(
                        "Invalid filter, '{statement}' is not a valid statement (expected a string on the form a=b or a= or a)"
                    ));
                }
                let key = key.to_lowercase();
                let entry = set.entry(key).or_insert(Condition::Exists);
                if let Some(v) = value {
                    match entry {
                        Condition::In(values) => values.push(v.to_lowercase()),
                        _ => *entry = Condition::In(vec![v.to_lowercase()]),
                    }
                }
            }
            if set.len() > limits::MAX_KEYS {
                return Err(format!(
                    "Invalid filter: {} keys in one filter; at most {} are allowed",
                    set.len(),
                    limits::MAX_KEYS
                ));
            }
            if !set.is_empty() {
                any_of.push(set.into_iter().collect());
            }
        }
        let filter = Filter { any_of };
        filter.check_size("filter")?;
        Ok(filter)
    }

    /// Conditions and values in the filter (what its statement binds).
    pub fn terms(&self) -> usize {
        terms(&self.any_of)
    }

    /// Refuses a filter past [`limits`], naming the bound; `what` names the input (`filter`,
    /// `query`).
    pub fn check_size(&self, what: &str) -> Result<(), String> {
        check_sets(&self.any_of, what)
    }

    /// Whether an entity with these search rows matches (the same semantics as the SQL).
    pub fn matches(&self, rows: &[crate::catalog::search::SearchRow]) -> bool {
        self.any_of.is_empty()
            || self.any_of.iter().any(|set| {
                set.iter()
                    .all(|(key, condition)| condition.holds(key, rows))
            })
    }

    /// AND of two filters (distributes OR); refused past [`limits`].
    pub fn and(self, other: Filter) -> Result<Filter, String> {
        if self.any_of.is_empty() {
            return Ok(other);
        }
        if other.any_of.is_empty() {
            return Ok(self);
        }
        let alternatives = self.any_of.len() * other.any_of.len();
        if alternatives > limits::MAX_ALTERNATIVES {
            return Err(format!(
                "Invalid query: the filter and the query together make {alternatives} alternatives; at most {} are allowed",
                limits::MAX_ALTERNATIVES
            ));
        }
        let mut any_of = Vec::new();
        for a in &self.any_of {
            for b in &other.any_of {
                any_of.push(a.iter().chain(b).cloned().collect());
            }
        }
        let filter = Filter { any_of };
        filter.check_size("query")?;
        Ok(filter)
    }
}

/// See [`Filter::terms`].
pub(crate) fn terms(sets: &[Vec<(String, Condition)>]) -> usize {
    fn of(condition: &Condition) -> usize {
        match condition {
            Condition::In(values) => values.len().max(1),
            Condition::Not(inner) => of(inner),
            Condition::Exists | Condition::Prefix(_) => 1,
        }
    }
    sets.iter()
        .flat_map(|set| set.iter().map(|(_, c)| of(c)))
        .sum()
}

/// See [`Filter::check_size`].
pub(crate) fn check_sets(sets: &[Vec<(String, Condition)>], what: &str) -> Result<(), String> {
    if sets.len() > limits::MAX_ALTERNATIVES {
        return Err(format!(
            "Invalid {what}: {} alternatives; at most {} are allowed",
            sets.len(),
            limits::MAX_ALTERNATIVES
        ));
    }
    for (key, condition) in sets.iter().flatten() {
        let values = match condition {
            Condition::In(values) => values.len(),
            Condition::Not(inner) => match inner.as_ref() {
                Condition::In(values) => values.len(),
                _ => 0,
            },
            _ => 0,
        };
        if values > limits::MAX_VALUES {
            return Err(format!(
                "Invalid {what}: '{key}' is compared with {values} values; at most {} are allowed per key",
                limits::MAX_VALUES
            ));
        }
    }
    let terms = terms(sets);
    if terms > limits::MAX_TERMS {
        return Err(format!(
            "Invalid {what}: {terms} conditions and values; at most {} are allowed in one query",
            limits::MAX_TERMS
        ));
    }
    Ok(())
}

/// The `fields` parameter: comma-separated (and repeated) dotted paths, de-duplicated.
pub fn parse_fields(params: &[String]) -> Result<Vec<String>, String> {
    let mut fields: Vec<String> = Vec::new();
    for f in params
        .iter()
        .flat_map(|p| p.split(','))
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        if f.contains('[') {
            return Err(format!(
                "Invalid field \"{f}\", array type fields are not supported"
            ));
        }
        if !fields.iter().any(|x| x == f) {
            fields.push(f.to_owned());
        }
        if fields.len() > limits::MAX_FIELDS {
            return Err(format!(
                "Invalid fields: more than {} fields; at most {} are allowed",
                limits::MAX_FIELDS,
                limits::MAX_FIELDS
            ));
        }
    }
    Ok(fields)
}

/// Keeps only `fields` of `entity`; a segment that is not a key is glued to the next one with a
/// dot, so `metadata.annotations.backstage.io/x` works. Missing paths are left out.
pub fn project(entity: &Value, fields: &[String]) -> Value {
    if fields.is_empty() {
        return entity.clone();
    }
    let mut out = Map::new();
    for field in fields {
        let parts: Vec<&str> = field.split('.').collect();
        let mut found: Vec<String> = Vec::new();
        let mut node = entity;
        let mut i = 0;
        let mut ok = true;
        while i < parts.len() {
            let mut key = parts[i].to_owned();
            let mut j = i;
            loop {
                if let Some(next) = node.get(&key) {
                    node = next;
                    found.push(key);
                    i = j + 1;
                    break;
                }
                j += 1;
                if j >= parts.len() {
                    ok = false;
                    break;
                }
                key = format!("{key}.{}", parts[j]);
            }
            if !ok {
                break;
            }
        }
        if ok {
            insert_path(&mut out, &found, node.clone());
        }
    }
    Value::Object(out)
}

/// [`project`] on an entity's JSON text, without building the whole entity: objects on the way
/// to each field are split into their members and only the kept values are parsed. Returns the
/// projected JSON text (the text itself when `fields` is empty or it is not an object).
pub fn project_text(text: &str, fields: &[String]) -> String {
    use serde_json::value::RawValue;
    type Members<'a> = std::collections::HashMap<String, &'a RawValue>;
    if fields.is_empty() {
        return text.to_owned();
    }
    let Ok(top) = serde_json::from_str::<Members>(text) else {
        return text.to_owned();
    };
    let mut out = Map::new();
    for field in fields {
        let parts: Vec<&str> = field.split('.').collect();
        let mut found: Vec<String> = Vec::new();
        let mut members = Some(top.clone());
        let mut node: Option<&RawValue> = None;
        let mut i = 0;
        while i < parts.len() {
            let Some(map) = members.take() else {
                node = None;
                break;
            };
            let mut key = parts[i].to_owned();
            let mut j = i;
            node = loop {
                if let Some(next) = map.get(&key) {
                    break Some(*next);
                }
                j += 1;
                if j >= parts.len() {
                    break None;
                }
                key = format!("{key}.{}", parts[j]);
            };
            let Some(next) = node else { break };
            found.push(key);
            i = j + 1;
            if i < parts.len() {
                members = serde_json::from_str::<Members>(next.get()).ok();
            }
        }
        if let Some(raw) = node
            && let Ok(value) = serde_json::from_str::<Value>(raw.get())
        {
            insert_path(&mut out, &found, value);
        }
    }
    Value::Object(out).to_string()
}

fn insert_path(out: &mut Map<String, Value>, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut map = out;
    for p in parents {
        let entry = map
            .entry(p.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        map = entry.as_object_mut().expect("just made an object");
    }
    map.insert(last.clone(), value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_key_is_or_different_keys_and_repeated_params_or() {
        let f = Filter::parse(&[
            "kind=A,kind=b, spec.type=Service".into(),
            "".into(),
            "x".into(),
        ])
        .unwrap();
        assert_eq!(f.any_of.len(), 2);
        assert_eq!(
            f.any_of[0],
            vec![
                ("kind".into(), Condition::In(vec!["a".into(), "b".into()])),
                ("spec.type".into(), Condition::In(vec!["service".into()])),
            ]
        );
        assert_eq!(f.any_of[1], vec![("x".into(), Condition::Exists)]);
        let f = Filter::parse(&["a=b=c,k=".into()]).unwrap();
        assert_eq!(f.any_of[0][0].1, Condition::In(vec!["b=c".into()]));
        assert_eq!(f.any_of[0][1].1, Condition::In(vec!["".into()]));
        assert!(
            Filter::parse(&["=x".into()])
                .unwrap_err()
                .contains("'=x' is not a valid statement")
        );
    }

    #[test]
    fn projection_keeps_requested_paths_only() {
        let e = json!({"kind": "Component", "metadata": {"name": "x", "annotations": {"backstage.io/a": "1"}}, "spec": {}});
        let fields = parse_fields(&[
            "kind,metadata.name".into(),
            "metadata.annotations.backstage.io/a,nope".into(),
        ])
        .unwrap();
        assert_eq!(
            project(&e, &fields),
            json!({"kind": "Component", "metadata": {"name": "x", "annotations": {"backstage.io/a": "1"}}})
        );
        assert!(parse_fields(&["a[0]".into()]).is_err());
    }

    #[test]
    fn projecting_text_agrees_with_projecting_values() {
        let e = json!({"kind": "Component", "metadata": {"name": "x", "tags": ["a", "b"],
            "annotations": {"backstage.io/a": "1", "quote\"d": {"deep": [1, {"k": null}]}}},
            "spec": {"owner": "team-a"}, "relations": [{"type": "ownedBy"}]});
        for fields in [
            "kind,metadata.name",
            "metadata.annotations.backstage.io/a,nope",
            "metadata.tags,spec",
            "metadata.annotations.quote\"d.deep,relations",
            "metadata.name.nothing,kind.x,spec.owner",
            "metadata",
        ] {
            let fields = parse_fields(&[fields.into()]).unwrap();
            let text: Value = serde_json::from_str(&project_text(&e.to_string(), &fields)).unwrap();
            assert_eq!(text, project(&e, &fields), "{fields:?}");
        }
        assert_eq!(project_text("[1]", &["kind".into()]), "[1]");
        assert_eq!(project_text("{}", &[]), "{}");
    }
}
