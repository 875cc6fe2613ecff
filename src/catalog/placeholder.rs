//! Backstage's placeholders: a mapping whose only key is `$text`, `$json` or `$yaml` is replaced
//! by the content of the file it names (a string, parsed JSON, or the one YAML document),
//! resolved against the file the entity was read from. URLs are read through the guarded fetcher,
//! `file` paths below `[catalog] file_roots`, each with the reader's limits. The content is not
//! searched for placeholders again; a mapping with other keys, or another `$` key (`$ref` in an
//! embedded JSON Schema), is left as written.

use std::collections::HashMap;

use serde_json::Value;

use super::model::{LocationSpec, LocationType};
use super::parse::parse_documents;
use super::read::{FileValidators, ReadOutcome, Reader};

/// Most placeholders resolved in one file: each is a read.
pub const MAX_PER_FILE: usize = 100;

/// One placeholder of a document: where it is, which resolver, its value.
struct Placeholder {
    pointer: String,
    resolver: &'static str,
    value: Value,
}

/// Whether `value` holds a placeholder anywhere (asked of every document read, so it allocates
/// nothing; nesting is bounded by the parser's depth limit).
pub fn has_placeholders(value: &Value) -> bool {
    match value {
        Value::Object(map) => resolver_of(map).is_some() || map.values().any(has_placeholders),
        Value::Array(items) => items.iter().any(has_placeholders),
        _ => false,
    }
}

fn resolver_of(map: &serde_json::Map<String, Value>) -> Option<(&'static str, &Value)> {
    if map.len() != 1 {
        return None;
    }
    let (key, value) = map.iter().next()?;
    let resolver = match key.as_str() {
        "$text" => "text",
        "$json" => "json",
        "$yaml" => "yaml",
        _ => return None,
    };
    Some((resolver, value))
}

/// Placeholders of `value`, depth first, at most `limit` (one more says there are too many).
fn collect(value: &Value, pointer: String, found: &mut Vec<Placeholder>, limit: usize) {
    if found.len() > limit {
        return;
    }
    match value {
        Value::Object(map) => {
            if let Some((resolver, v)) = resolver_of(map) {
                found.push(Placeholder {
                    pointer,
                    resolver,
                    value: v.clone(),
                });
                return;
            }
            for (key, v) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                collect(v, format!("{pointer}/{key}"), found, limit);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect(v, format!("{pointer}/{i}"), found, limit);
            }
        }
        _ => {}
    }
}

/// Files read for placeholders, by `<type>:<target>`: each read once per file of a location.
pub type Reads = HashMap<String, Result<(String, FileValidators), String>>;

/// Replaces every placeholder of `document` (read from `file`); the first failure is the error,
/// in Backstage's words. `reads` keeps what was read for the other documents of the same file.
pub async fn resolve(
    document: &mut Value,
    file: &LocationSpec,
    reader: &Reader,
    reads: &mut Reads,
) -> Result<(), String> {
    let mut found = Vec::new();
    collect(document, String::new(), &mut found, MAX_PER_FILE);
    if found.len() > MAX_PER_FILE {
        return Err(format!(
            "more than {MAX_PER_FILE} placeholders in one entity; at most {MAX_PER_FILE} are read"
        ));
    }
    for Placeholder {
        pointer,
        resolver,
        value,
    } in found
    {
        let fail = |e: String| {
            format!(
                "InputError: Processor PlaceholderProcessor threw an error while preprocessing; caused by Error: {e}"
            )
        };
        let Value::String(value) = value else {
            return Err(fail(format!(
                "Placeholder ${resolver} expected a string value parameter, in the form of an absolute URL or a relative path"
            )));
        };
        let target = target_of(&value, file).map_err(|e| {
            fail(format!(
                "Placeholder ${resolver} could not form a URL out of {} and {value}, {e}",
                file.target
            ))
        })?;
        let key = target.key();
        if !reads.contains_key(&key) {
            if reads.len() >= MAX_PER_FILE {
                return Err(fail(format!(
                    "more than {MAX_PER_FILE} files read for placeholders of one catalog file"
                )));
            }
            let read = match reader.read(&target, None).await {
                Ok(ReadOutcome::Body { bytes, validators }) => String::from_utf8(bytes.to_vec())
                    .map(|text| (text, validators))
                    .map_err(|_| "the file is not valid UTF-8".to_owned()),
                Ok(ReadOutcome::NotModified) => Err("the file answered not modified".into()),
                Err(e) => Err(e.to_string()),
            };
            reads.insert(key.clone(), read);
        }
        let text = match &reads[&key] {
            Ok((text, _)) => text,
            Err(e) => {
                return Err(fail(format!(
                    "Placeholder ${resolver} could not read location {value}, {e}"
                )));
            }
        };
        let content = parse(resolver, &value, text).map_err(fail)?;
        if let Some(slot) = document.pointer_mut(&pointer) {
            *slot = content;
        }
    }
    Ok(())
}

/// The content of a placeholder's file as its resolver gives it.
fn parse(resolver: &str, value: &str, text: &str) -> Result<Value, String> {
    match resolver {
        "json" => serde_json::from_str(text).map_err(|e| {
            format!("Placeholder $json failed to parse JSON data at {value}, SyntaxError: {e}")
        }),
        "yaml" => {
            let documents = parse_documents(text.as_bytes()).map_err(|e| {
                format!("Placeholder $yaml failed to parse YAML data at {value}, {e}")
            })?;
            if documents.len() != 1 {
                return Err(format!(
                    "Placeholder $yaml expected to find exactly one document of data at {value}, found {}",
                    documents.len()
                ));
            }
            Ok(documents
                .into_iter()
                .next()
                .map(|(_, v)| v)
                .unwrap_or_default())
        }
        _ => Ok(Value::String(text.to_owned())),
    }
}

/// What a placeholder's value names: an absolute URL as written, else a path relative to `file`
/// (a URL joined to it, or a file path beside it).
fn target_of(value: &str, file: &LocationSpec) -> Result<LocationSpec, String> {
    if let Ok(url) = url::Url::parse(value)
        && matches!(url.scheme(), "http" | "https")
    {
        return Ok(LocationSpec {
            kind: LocationType::Url,
            target: value.to_owned(),
        });
    }
    match file.kind {
        LocationType::Url => url::Url::parse(&file.target)
            .and_then(|base| base.join(value))
            .map(|url| LocationSpec {
                kind: LocationType::Url,
                target: url.to_string(),
            })
            .map_err(|e| format!("TypeError: Invalid URL ({e})")),
        LocationType::File => {
            let dir = std::path::Path::new(&file.target)
                .parent()
                .ok_or_else(|| "TypeError: Invalid URL".to_owned())?;
            Ok(LocationSpec {
                kind: LocationType::File,
                target: dir.join(value).display().to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_single_key_resolver_mappings_are_placeholders() {
        assert!(has_placeholders(
            &json!({"spec": {"definition": {"$text": "./a.yaml"}}})
        ));
        assert!(has_placeholders(&json!({"p": [{"$yaml": "x.yaml"}]})));
        assert!(!has_placeholders(
            &json!({"spec": {"$text": "./a", "other": 1}})
        ));
        assert!(!has_placeholders(
            &json!({"schema": {"$ref": "#/definitions/x"}})
        ));
    }

    #[test]
    fn relative_values_resolve_against_the_file() {
        let url = LocationSpec {
            kind: LocationType::Url,
            target: "https://h/o/r/blob/main/dir/catalog-info.yaml".into(),
        };
        assert_eq!(
            target_of("./openapi.yaml", &url).unwrap().target,
            "https://h/o/r/blob/main/dir/openapi.yaml"
        );
        assert_eq!(
            target_of("../defaults/p.yaml", &url).unwrap().target,
            "https://h/o/r/blob/main/defaults/p.yaml"
        );
        let file = LocationSpec {
            kind: LocationType::File,
            target: "/srv/c/t/template.yaml".into(),
        };
        assert_eq!(
            target_of("../d/p.yaml", &file).unwrap(),
            LocationSpec {
                kind: LocationType::File,
                target: "/srv/c/t/../d/p.yaml".into()
            }
        );
        assert_eq!(
            target_of("https://x/y.json", &file).unwrap().kind,
            LocationType::Url
        );
    }

    #[test]
    fn yaml_needs_exactly_one_document() {
        assert_eq!(parse("yaml", "v", "a: 1").unwrap(), json!({"a": 1}));
        assert!(
            parse("yaml", "v", "a: 1\n---\nb: 2\n")
                .unwrap_err()
                .contains("exactly one document of data at v, found 2")
        );
        assert!(
            parse("json", "v", "openapi: 3")
                .unwrap_err()
                .contains("$json")
        );
        assert_eq!(parse("text", "v", "x: 1").unwrap(), json!("x: 1"));
    }
}
