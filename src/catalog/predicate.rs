//! The JSON predicate of `POST /entities/by-query` (reference §2.3), as the equivalent
//! query-string filters.

use serde_json::Value;

/// A JSON predicate (`POST /entities/by-query`) as equivalent query-string filters: field keys
/// with a value, `{$in: [...]}` or `{$exists: true}`, combined with `$all` and `$any`.
pub fn predicate_filter_strings(predicate: &Value) -> Result<Vec<String>, String> {
    let sets = predicate_sets(predicate)?;
    Ok(sets
        .into_iter()
        .map(|set| set.join(","))
        .filter(|s| !s.is_empty())
        .collect())
}

fn predicate_sets(predicate: &Value) -> Result<Vec<Vec<String>>, String> {
    let Value::Object(map) = predicate else {
        return Err("Invalid query: expected an object".into());
    };
    let mut result: Vec<Vec<String>> = vec![Vec::new()];
    for (key, value) in map {
        let alternatives: Vec<Vec<String>> = match key.as_str() {
            "$all" => {
                let items = value.as_array().ok_or("Invalid query: $all takes a list")?;
                let mut acc = vec![Vec::new()];
                for item in items {
                    acc = cross(&acc, &predicate_sets(item)?);
                }
                acc
            }
            "$any" => {
                let items = value.as_array().ok_or("Invalid query: $any takes a list")?;
                let mut acc = Vec::new();
                for item in items {
                    acc.extend(predicate_sets(item)?);
                }
                acc
            }
            k if k.starts_with('$') => {
                return Err(format!("Invalid query: operator '{k}' is not supported"));
            }
            field => field_sets(field, value)?,
        };
        result = cross(&result, &alternatives);
    }
    Ok(result)
}

fn field_sets(field: &str, value: &Value) -> Result<Vec<Vec<String>>, String> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(format!("Invalid query: unsupported value for '{field}'")),
    };
    match value {
        Value::Object(op) => match op.iter().next() {
            Some((k, Value::Bool(true))) if k == "$exists" && op.len() == 1 => {
                Ok(vec![vec![field.to_owned()]])
            }
            Some((k, Value::Array(values))) if k == "$in" && op.len() == 1 => {
                let set = values
                    .iter()
                    .map(|v| scalar(v).map(|v| format!("{field}={v}")))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(vec![set])
            }
            _ => Err(format!(
                "Invalid query: unsupported condition for '{field}'"
            )),
        },
        other => Ok(vec![vec![format!("{field}={}", scalar(other)?)]]),
    }
}

fn cross(a: &[Vec<String>], b: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for x in a {
        for y in b {
            out.push(x.iter().chain(y).cloned().collect());
        }
    }
    out
}
