//! The JSON predicate of `POST /entities/by-query` (Backstage's entity predicate) as a [`Filter`]: field keys
//! (implicit AND) or exactly one of `$all`, `$any`, `$not`; a field takes a value, `{$exists}`,
//! `{$in}`, `{$hasPrefix}` or `{$contains}`, and `relations` takes
//! `{$contains: {type, targetRef?}}`. `$not` is pushed down to the fields (De Morgan).

use serde_json::Value;

use super::filter::{Condition, Filter, check_sets, limits};

/// OR of AND-sets; `[]` is false and `[[]]` is true.
type Sets = Vec<Vec<(String, Condition)>>;

/// The filter a predicate stands for, or a message naming what is wrong with it.
pub fn predicate_filter(predicate: &Value) -> Result<Filter, String> {
    let sets = sets_of(predicate, 0)?;
    if sets.iter().any(Vec::is_empty) {
        return Ok(Filter::default());
    }
    if sets.is_empty() {
        // Matches nothing.
        return Ok(Filter {
            any_of: vec![vec![("metadata.uid".into(), Condition::In(Vec::new()))]],
        });
    }
    Ok(Filter { any_of: sets })
}

fn sets_of(predicate: &Value, depth: usize) -> Result<Sets, String> {
    let Value::Object(map) = predicate else {
        return Err("Invalid query: a predicate must be an object".into());
    };
    if depth > limits::MAX_DEPTH {
        return Err(format!(
            "Invalid query: $all, $any and $not are nested more than {} deep",
            limits::MAX_DEPTH
        ));
    }
    if map.len() > limits::MAX_KEYS {
        return Err(format!(
            "Invalid query: an object with {} keys; at most {} are allowed",
            map.len(),
            limits::MAX_KEYS
        ));
    }
    let operators = map.keys().filter(|k| k.starts_with('$')).count();
    if operators > 0 && map.len() > 1 {
        return Err(
            "Invalid query: an object with $all, $any or $not must have that one key only".into(),
        );
    }
    let mut result: Sets = vec![Vec::new()];
    for (key, value) in map {
        let alternatives = match key.as_str() {
            "$all" => {
                let mut acc: Sets = vec![Vec::new()];
                for item in list(key, value)? {
                    acc = cross(&acc, &sets_of(item, depth + 1)?)?;
                }
                acc
            }
            "$any" => {
                let mut acc = Vec::new();
                for item in list(key, value)? {
                    acc.extend(sets_of(item, depth + 1)?);
                    if acc.len() > limits::MAX_ALTERNATIVES {
                        return limited(acc);
                    }
                }
                limited(acc)?
            }
            "$not" => negate(&sets_of(value, depth + 1)?)?,
            k if k.starts_with('$') => {
                return Err(format!("Invalid query: operator '{k}' is not supported"));
            }
            field => vec![vec![field_condition(field, value)?]],
        };
        result = cross(&result, &alternatives)?;
    }
    Ok(result)
}

fn list<'a>(operator: &str, value: &'a Value) -> Result<&'a Vec<Value>, String> {
    value
        .as_array()
        .ok_or_else(|| format!("Invalid query: {operator} takes a list of predicates"))
}

/// A field's condition (keys and values lower-cased, as the search rows are).
fn field_condition(field: &str, value: &Value) -> Result<(String, Condition), String> {
    let key = field.to_lowercase();
    let unsupported = || format!("Invalid query: unsupported condition for '{field}'");
    let Value::Object(op) = value else {
        return Ok((key, Condition::In(vec![scalar(field, value)?])));
    };
    let mut entries = op.iter();
    let (Some((operator, operand)), None) = (entries.next(), entries.next()) else {
        return Err(unsupported());
    };
    let condition = match (operator.as_str(), operand) {
        ("$exists", Value::Bool(true)) => Condition::Exists,
        ("$exists", Value::Bool(false)) => Condition::Not(Box::new(Condition::Exists)),
        ("$in", Value::Array(values)) if values.len() > limits::MAX_VALUES => {
            return Err(format!(
                "Invalid query: $in of '{field}' has {} values; at most {} are allowed per key",
                values.len(),
                limits::MAX_VALUES
            ));
        }
        ("$in", Value::Array(values)) => Condition::In(
            values
                .iter()
                .map(|v| scalar(field, v))
                .collect::<Result<_, _>>()?,
        ),
        ("$hasPrefix", Value::String(prefix)) => Condition::Prefix(prefix.to_lowercase()),
        ("$contains", Value::Object(relation)) if key == "relations" => {
            return relation_condition(relation);
        }
        ("$contains", v) => Condition::In(vec![scalar(field, v)?]),
        _ => return Err(unsupported()),
    };
    Ok((key, condition))
}

/// `relations: {$contains: {type, targetRef?}}`, `targetRef` a ref or `{$in: [...]}`.
fn relation_condition(
    relation: &serde_json::Map<String, Value>,
) -> Result<(String, Condition), String> {
    let invalid = || {
        "Invalid query: relations $contains takes {type, targetRef?} with a string type".to_owned()
    };
    let kind = relation
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(invalid)?;
    if relation.keys().any(|k| k != "type" && k != "targetRef") {
        return Err(invalid());
    }
    let key = format!("relations.{}", kind.to_lowercase());
    let condition = match relation.get("targetRef") {
        None => Condition::Exists,
        Some(Value::String(target)) => Condition::In(vec![target.to_lowercase()]),
        Some(Value::Object(op)) => match (op.len(), op.get("$in")) {
            (1, Some(Value::Array(targets))) if targets.len() > limits::MAX_VALUES => {
                return Err(format!(
                    "Invalid query: $in of 'targetRef' has {} values; at most {} are allowed per key",
                    targets.len(),
                    limits::MAX_VALUES
                ));
            }
            (1, Some(Value::Array(targets))) => Condition::In(
                targets
                    .iter()
                    .map(|t| scalar("targetRef", t))
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(invalid()),
        },
        Some(_) => return Err(invalid()),
    };
    Ok((key, condition))
}

fn scalar(field: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.to_lowercase()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(format!(
            "Invalid query: '{field}' takes a string, number or boolean"
        )),
    }
}

/// NOT of an OR of AND-sets: an AND of ORs of negated conditions, expanded back to AND-sets.
fn negate(sets: &Sets) -> Result<Sets, String> {
    let mut acc: Sets = vec![Vec::new()];
    for set in sets {
        let alternatives: Sets = set
            .iter()
            .map(|(key, condition)| vec![(key.clone(), condition.clone().negated())])
            .collect();
        acc = cross(&acc, &alternatives)?;
    }
    Ok(acc)
}

fn cross(a: &Sets, b: &Sets) -> Result<Sets, String> {
    if a.len() * b.len() > limits::MAX_ALTERNATIVES {
        return Err(too_many_alternatives());
    }
    let mut out = Vec::new();
    for x in a {
        for y in b {
            out.push(x.iter().chain(y).cloned().collect());
        }
    }
    limited(out)
}

/// `sets` if within [`limits`], else why not.
fn limited(sets: Sets) -> Result<Sets, String> {
    if sets.len() > limits::MAX_ALTERNATIVES {
        return Err(too_many_alternatives());
    }
    check_sets(&sets, "query")?;
    Ok(sets)
}

fn too_many_alternatives() -> String {
    format!(
        "Invalid query: the predicate expands to more than {} alternatives; simplify its $any and $not",
        limits::MAX_ALTERNATIVES
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filter(predicate: Value) -> Filter {
        predicate_filter(&predicate).unwrap()
    }

    fn sets(f: &Filter) -> Vec<Vec<(&str, &Condition)>> {
        f.any_of
            .iter()
            .map(|set| set.iter().map(|(k, c)| (k.as_str(), c)).collect())
            .collect()
    }

    #[test]
    fn not_is_pushed_down_to_the_fields() {
        let f = filter(
            json!({"$not": {"$any": [{"kind": "API"}, {"spec.type": {"$hasPrefix": "Web"}}]}}),
        );
        let not_api = Condition::Not(Box::new(Condition::In(vec!["api".into()])));
        let not_web = Condition::Not(Box::new(Condition::Prefix("web".into())));
        assert_eq!(
            sets(&f),
            vec![vec![("kind", &not_api), ("spec.type", &not_web)]]
        );
        let f = filter(json!({"$not": {"$not": {"kind": "api"}}}));
        assert_eq!(
            sets(&f),
            vec![vec![("kind", &Condition::In(vec!["api".into()]))]]
        );
        let f = filter(json!({"spec.owner": {"$exists": false}}));
        assert_eq!(
            sets(&f),
            vec![vec![(
                "spec.owner",
                &Condition::Not(Box::new(Condition::Exists))
            )]]
        );
    }

    #[test]
    fn empty_all_is_true_and_empty_any_is_false() {
        assert_eq!(filter(json!({"$all": []})), Filter::default());
        assert_eq!(filter(json!({})), Filter::default());
        let nothing = filter(json!({"$any": []}));
        assert!(!nothing.matches(&[]));
        assert_eq!(filter(json!({"$not": {"$any": []}})), Filter::default());
    }

    #[test]
    fn relations_contains_names_the_relation_key() {
        let f = filter(
            json!({"relations": {"$contains": {"type": "ownedBy", "targetRef": "Group:default/A"}}}),
        );
        assert_eq!(
            sets(&f),
            vec![vec![(
                "relations.ownedby",
                &Condition::In(vec!["group:default/a".into()])
            )]]
        );
        let f = filter(json!({"relations": {"$contains": {"type": "ownedBy"}}}));
        assert_eq!(
            sets(&f),
            vec![vec![("relations.ownedby", &Condition::Exists)]]
        );
    }

    #[test]
    fn malformed_predicates_say_what_is_wrong() {
        for (predicate, message) in [
            (json!("kind"), "must be an object"),
            (json!({"$all": [], "kind": "x"}), "that one key only"),
            (json!({"$nope": []}), "operator '$nope' is not supported"),
            (
                json!({"kind": {"$regex": "x"}}),
                "unsupported condition for 'kind'",
            ),
            (json!({"kind": {"$in": [{}]}}), "'kind' takes a string"),
            (json!({"$any": {}}), "$any takes a list"),
            (
                json!({"relations": {"$contains": {"targetRef": "x"}}}),
                "relations $contains",
            ),
        ] {
            let err = predicate_filter(&predicate).unwrap_err();
            assert!(err.contains(message), "{predicate}: {err}");
        }
        let wide: Vec<Value> = (0..20).map(|i| json!({"kind": format!("k{i}")})).collect();
        let err = predicate_filter(&json!({"$all": [{"$any": wide}, {"$any": wide}]})).unwrap_err();
        assert!(err.contains("more than 256 alternatives"), "{err}");
    }
}
