//! Settings from the environment, as containers are configured: `FAWKES_PORTAL_<PATH>`, the
//! setting's path in upper case with `__` between sections (`FAWKES_PORTAL_SERVER__LISTEN`).
//!
//! A scalar setting takes its value as written. A **list** setting (one whose default is a list)
//! takes either a comma-separated value, `github.com,gitlab.internal:8443` (items trimmed, empty
//! items dropped, so an empty value is the empty list), or a JSON array, `["github.com"]`; a list
//! of tables (`auth.static_tokens`, `rate_limit.overrides`, `fetch.credentials`) takes the JSON form,
//! `[{"token_env": "CI_TOKEN", "subject": "ci-bot"}]`. A **map** setting (`dora.teams`) takes a
//! JSON object, `{"platform-team": ["api", "web"]}`, or one variable per key,
//! `FAWKES_PORTAL_DORA__TEAMS__PAYMENTS=api,web` (names are lower-cased, as every key is); maps
//! of settings hold lists. A list from the environment replaces the file's list.

use serde_json::Value as Json;

use super::{CONFIG_PATH_ENV, ConfigError, ENV_PREFIX, Settings};

/// The environment's settings, split by shape: scalars go to the `config` crate's own
/// environment source (which parses numbers and booleans); lists and maps are parsed here.
pub(super) struct EnvSettings {
    pub scalars: config::Map<String, String>,
    pub structured: Structured,
}

/// Lists and maps from the environment, as a `config` source keyed by setting path.
#[derive(Debug, Clone, Default)]
pub(super) struct Structured(config::Map<String, config::Value>);

impl config::Source for Structured {
    fn clone_into_box(&self) -> Box<dyn config::Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<config::Map<String, config::Value>, config::ConfigError> {
        Ok(self.0.clone())
    }
}

/// What a setting's default says about the value it takes.
enum Shape {
    Scalar,
    List,
    Map,
}

/// Sorts the `FAWKES_PORTAL_*` variables of `env` (others are ignored) by the shape of the
/// setting each names, parsing lists and maps.
pub(super) fn read(
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<EnvSettings, ConfigError> {
    let defaults = serde_json::to_value(Settings::default())
        .map_err(|e| ConfigError::new("defaults", e.to_string()))?;
    let mut scalars = config::Map::new();
    let mut structured = config::Map::new();
    let prefix = format!("{ENV_PREFIX}_");
    for (name, value) in env {
        if name == CONFIG_PATH_ENV {
            continue;
        }
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let path: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
        let key = path.join(".");
        let parsed = match shape(&defaults, &path) {
            Shape::Scalar => {
                scalars.insert(name, value);
                continue;
            }
            Shape::List => list(&name, &key, &value)?,
            Shape::Map => map(&name, &key, &value)?,
        };
        structured.insert(key, parsed);
    }
    Ok(EnvSettings {
        scalars,
        structured: Structured(structured),
    })
}

fn shape(defaults: &Json, path: &[String]) -> Shape {
    let mut node = defaults;
    for (i, segment) in path.iter().enumerate() {
        match node.get(segment) {
            Some(child) => node = child,
            // A key inside a map of settings (`dora.teams.<team>`): the maps hold lists.
            None if i + 1 == path.len() && is_map(node) => return Shape::List,
            None => return Shape::Scalar,
        }
    }
    match node {
        Json::Array(_) => Shape::List,
        _ if is_map(node) => Shape::Map,
        _ => Shape::Scalar,
    }
}

/// A map of settings has no keys of its own: its default is an empty table.
fn is_map(node: &Json) -> bool {
    node.as_object().is_some_and(serde_json::Map::is_empty)
}

fn list(name: &str, key: &str, value: &str) -> Result<config::Value, ConfigError> {
    let origin = format!("environment variable {name}");
    let value = value.trim();
    if value.starts_with('[') {
        let parsed: Json = serde_json::from_str(value)
            .map_err(|e| ConfigError::new(key, format!("{name} is not a JSON array: {e}")))?;
        return Ok(to_config(&parsed, &origin));
    }
    let items: Vec<config::Value> = value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| config::Value::new(Some(&origin), item.to_owned()))
        .collect();
    Ok(config::Value::new(Some(&origin), items))
}

fn map(name: &str, key: &str, value: &str) -> Result<config::Value, ConfigError> {
    let parsed: Json = serde_json::from_str(value.trim())
        .map_err(|e| ConfigError::new(key, format!("{name} is not a JSON object: {e}")))?;
    if !parsed.is_object() {
        return Err(ConfigError::new(
            key,
            format!("{name} must be a JSON object such as {{\"name\": [\"a\", \"b\"]}}"),
        ));
    }
    Ok(to_config(&parsed, &format!("environment variable {name}")))
}

fn to_config(json: &Json, origin: &String) -> config::Value {
    let kind: config::ValueKind = match json {
        Json::Null => config::ValueKind::Nil,
        Json::Bool(b) => (*b).into(),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into(),
            (None, Some(u)) => u.into(),
            _ => n.as_f64().unwrap_or_default().into(),
        },
        Json::String(s) => s.clone().into(),
        Json::Array(items) => {
            config::ValueKind::Array(items.iter().map(|item| to_config(item, origin)).collect())
        }
        Json::Object(fields) => config::ValueKind::Table(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), to_config(v, origin)))
                .collect(),
        ),
    };
    config::Value::new(Some(origin), kind)
}

#[cfg(test)]
mod tests;
