//! Webhook bodies decoded as leniently as DevLake decodes them (its `mapstructure` decoder with
//! `WeaklyTypedInput`), so a pipeline that posts to DevLake can post here unchanged:
//!
//! - keys: the exact name first, else a key equal to it ignoring case (`PULLREQUESTKEY`); with
//!   several such keys and no exact one, DevLake takes any of them and this takes the first in
//!   byte order. Unknown keys are ignored; a `null` value is an absent key.
//! - text fields take numbers (`12` → `"12"`, `12.5` → `"12.5"`, in Go's shortest form) and
//!   booleans (`"1"`, `"0"`);
//! - whole-number fields take numbers (cut toward zero: `12.9` → 12), booleans (1, 0) and texts
//!   in Go's syntax (`"12"`, `"+5"`, `"0x1F"`, `"0o17"`, `"0b101"`, `"1_000"`, `"017"` = 15,
//!   `""` = 0);
//! - decimal fields take numbers, booleans and decimal texts (`""` = 0);
//! - yes/no fields take booleans, numbers (non-zero is yes) and `1 t T TRUE true True`,
//!   `0 f F FALSE false False` or `""` (no);
//! - a list field takes a list, or one object as a list of one (`{}` as an empty list);
//! - times take only texts, parsed as DevLake parses them ([`super::devlake_time`]).
//!
//! Any other value is refused with a 400 naming the field (DevLake answers 400 too). JSON
//! numbers are read as DevLake reads them, as 64-bit floats.
//!
//! It is a `serde` deserializer over a JSON value: the body types keep their derived
//! `Deserialize`, and serde tells each field's expected type. A type that wants text only (a
//! time) asks with `deserialize_str`; a `String` field asks with `deserialize_string` and gets
//! the coercions above.

mod access;
mod go_syntax;

use access::{Fields, Items, matching};
use go_syntax::{float, float_text, go_float, go_int};
use serde::de::{self, DeserializeOwned, Unexpected, Visitor};
use serde_json::Value;

/// A body that does not fit, with the path of the field (`deploymentCommits[0].finishedDate:
/// ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LooseError {
    message: String,
    /// Whether `message` already starts with the field's path.
    located: bool,
}

impl std::fmt::Display for LooseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LooseError {}

impl de::Error for LooseError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        LooseError {
            message: msg.to_string(),
            located: false,
        }
    }
}

impl LooseError {
    fn at(self, path: &str) -> LooseError {
        if self.located || path.is_empty() {
            return self;
        }
        LooseError {
            message: format!("{path}: {}", self.message),
            located: true,
        }
    }
}

/// `value` (a webhook body) as `T`, with DevLake's leniency.
pub fn decode<T: DeserializeOwned>(value: Value) -> Result<T, LooseError> {
    T::deserialize(Loose {
        value,
        path: String::new(),
    })
}

/// A JSON value and where it is in the body.
struct Loose {
    value: Value,
    path: String,
}

impl Loose {
    fn child(path: &str, key: &str, value: Value) -> Loose {
        let path = if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        };
        Loose { value, path }
    }

    fn item(path: &str, index: usize, value: Value) -> Loose {
        Loose {
            value,
            path: format!("{path}[{index}]"),
        }
    }

    fn unexpected(&self) -> Unexpected<'_> {
        match &self.value {
            Value::Null => Unexpected::Unit,
            Value::Bool(b) => Unexpected::Bool(*b),
            Value::Number(n) => n
                .as_i64()
                .map(Unexpected::Signed)
                .unwrap_or_else(|| Unexpected::Float(n.as_f64().unwrap_or_default())),
            Value::String(s) => Unexpected::Str(s),
            Value::Array(_) => Unexpected::Seq,
            Value::Object(_) => Unexpected::Map,
        }
    }

    fn invalid(&self, expected: &str) -> LooseError {
        de::Error::invalid_type(self.unexpected(), &expected)
    }
}

impl<'de> de::Deserializer<'de> for Loose {
    type Error = LooseError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LooseError> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(ref n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => visitor.visit_u64(u),
                (_, Some(i)) => visitor.visit_i64(i),
                _ => visitor.visit_f64(float(n)),
            },
            Value::String(s) => visitor.visit_string(s),
            Value::Array(_) => self.deserialize_seq(visitor),
            Value::Object(object) => {
                let entries: Vec<(String, Loose)> = object
                    .into_iter()
                    .map(|(k, v)| {
                        let child = Loose::child(&self.path, &k, v);
                        (k, child)
                    })
                    .collect();
                visitor.visit_map(Fields::new(entries))
            }
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LooseError> {
        match self.value {
            Value::String(s) => visitor.visit_string(s),
            Value::Number(ref n) => visitor.visit_string(float_text(float(n))),
            Value::Bool(b) => visitor.visit_string(if b { "1" } else { "0" }.to_owned()),
            _ => Err(self.invalid("a string")),
        }
    }

    /// Text only (a time): no coercion.
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LooseError> {
        match self.value {
            Value::String(s) => visitor.visit_string(s),
            _ => Err(self.invalid("a string")),
        }
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LooseError> {
        let whole = match &self.value {
            Value::Number(n) => match n.as_i64() {
                Some(i) => Some(i),
                None => {
                    let f = float(n).trunc();
                    // i64::MAX as f64 rounds up to 2^63, itself out of range.
                    (f >= i64::MIN as f64 && f < i64::MAX as f64).then_some(f as i64)
                }
            },
            Value::Bool(b) => Some(i64::from(*b)),
            Value::String(s) if s.is_empty() => Some(0),
            Value::String(s) => go_int(s),
            _ => None,
        };
        match whole {
            Some(i) => visitor.visit_i64(i),
            None => Err(self.invalid("a whole number")),
        }
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LooseError> {
        let number = match &self.value {
            Value::Number(n) => Some(float(n)),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Value::String(s) if s.is_empty() => Some(0.0),
            Value::String(s) => go_float(s),
            _ => None,
        };
        match number {
            Some(f) => visitor.visit_f64(f),
            None => Err(self.invalid("a number")),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LooseError> {
        let flag = match &self.value {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => Some(float(n) != 0.0),
            Value::String(s) => match s.as_str() {
                "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
                "0" | "f" | "F" | "FALSE" | "false" | "False" | "" => Some(false),
                _ => None,
            },
            _ => None,
        };
        match flag {
            Some(b) => visitor.visit_bool(b),
            None => Err(self.invalid("a boolean")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LooseError> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LooseError> {
        let items = match self.value {
            Value::Array(items) => items,
            Value::Object(ref object) if object.is_empty() => Vec::new(),
            // One value where a list is expected is a list of one.
            other => vec![other],
        };
        let items: Vec<Loose> = items
            .into_iter()
            .enumerate()
            .map(|(i, v)| Loose::item(&self.path, i, v))
            .collect();
        visitor.visit_seq(Items(items.into_iter()))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, LooseError> {
        let Value::Object(mut object) = self.value else {
            return Err(self.invalid("an object"));
        };
        // The key each field takes, found first: values then move out of the body, copied only
        // for a key that two fields take.
        let keys: Vec<(&str, Option<String>)> = fields
            .iter()
            .map(|field| (*field, matching(&object, field).map(str::to_owned)))
            .collect();
        let mut entries = Vec::with_capacity(keys.len());
        for (i, (field, key)) in keys.iter().enumerate() {
            let Some(key) = key else { continue };
            let shared = keys[i + 1..].iter().any(|(_, k)| k.as_ref() == Some(key));
            let value = if shared {
                object.get(key).cloned()
            } else {
                object.remove(key)
            };
            if let Some(value) = value.filter(|v| !v.is_null()) {
                entries.push(((*field).to_owned(), Loose::child(&self.path, field, value)));
            }
        }
        visitor
            .visit_map(Fields::new(entries))
            .map_err(|e| e.at(&self.path))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LooseError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i128 u8 u16 u32 u64 u128 f32 char bytes byte_buf unit unit_struct
        newtype_struct tuple tuple_struct map enum identifier
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        id: String,
        key: Option<i64>,
        ratio: Option<f64>,
        draft: Option<bool>,
        items: Option<Vec<Item>>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Item {
        repo_url: String,
    }

    fn body(value: Value) -> Result<Body, String> {
        decode::<Body>(value).map_err(|e| e.to_string())
    }

    #[test]
    fn keys_match_exactly_then_ignoring_case() {
        let got = body(json!({"ID": "a", "KEY": 1, "Draft": true, "unknown": [1]})).unwrap();
        assert_eq!(
            (got.id.as_str(), got.key, got.draft),
            ("a", Some(1), Some(true))
        );
        let got = body(json!({"id": "exact", "Id": "other"})).unwrap();
        assert_eq!(got.id, "exact");
        // Underscores are not case.
        assert_eq!(body(json!({"id": "a", "k_e_y": 1})).unwrap().key, None);
        let got = body(json!({"id": "a", "items": [{"REPOURL": "r"}]})).unwrap();
        assert_eq!(got.items.unwrap()[0].repo_url, "r");
        // Case as Unicode has it: the Kelvin sign lowercases to `k`.
        assert_eq!(
            body(json!({"id": "a", "\u{212A}EY": 2})).unwrap().key,
            Some(2)
        );
        assert_eq!(body(json!({"id": "a", "KEYS": 2})).unwrap().key, None);
    }

    #[test]
    fn values_are_coerced_as_devlake_coerces_them() {
        let text = |v: Value| body(json!({ "id": v })).map(|b| b.id);
        assert_eq!(text(json!(12)).unwrap(), "12");
        assert_eq!(text(json!(12.5)).unwrap(), "12.5");
        assert_eq!(text(json!(1e21)).unwrap(), "1000000000000000000000");
        assert_eq!(text(json!(true)).unwrap(), "1");
        assert!(text(json!({})).unwrap_err().starts_with("id: invalid type"));
        let whole = |v: Value| body(json!({"id": "a", "key": v})).map(|b| b.key);
        for (value, expected) in [
            (json!(12.9), 12),
            (json!(-12.9), -12),
            (json!("12"), 12),
            (json!("+5"), 5),
            (json!("-0x1F"), -31),
            (json!("0o17"), 15),
            (json!("017"), 15),
            (json!("0b101"), 5),
            (json!("1_000"), 1000),
            (json!("0"), 0),
            (json!(""), 0),
            (json!(true), 1),
        ] {
            assert_eq!(whole(value.clone()).unwrap(), Some(expected), "{value}");
        }
        for value in [
            json!("12.0"),
            json!(" 12"),
            json!("1__0"),
            json!("_1"),
            json!("0x"),
            json!([1]),
        ] {
            let err = whole(value.clone()).unwrap_err();
            assert!(err.starts_with("key: invalid type"), "{value}: {err}");
        }
        let ratio = |v: Value| body(json!({"id": "a", "ratio": v})).map(|b| b.ratio);
        assert_eq!(ratio(json!("1e3")).unwrap(), Some(1000.0));
        assert_eq!(ratio(json!("")).unwrap(), Some(0.0));
        let draft = |v: Value| body(json!({"id": "a", "draft": v})).map(|b| b.draft);
        assert_eq!(draft(json!("T")).unwrap(), Some(true));
        assert_eq!(draft(json!(0)).unwrap(), Some(false));
        assert_eq!(draft(json!("")).unwrap(), Some(false));
        assert!(draft(json!("yes")).is_err());
        assert_eq!(draft(json!(null)).unwrap(), None);
    }

    #[test]
    fn one_object_is_a_list_of_one_and_errors_name_the_field() {
        let items = |v: Value| body(json!({"id": "a", "items": v})).map(|b| b.items);
        assert_eq!(items(json!({"repoUrl": "r"})).unwrap().unwrap().len(), 1);
        assert_eq!(items(json!({})).unwrap().unwrap().len(), 0);
        assert_eq!(
            items(json!([{"repoUrl": "r"}, {}])).unwrap_err(),
            "items[1]: missing field `repoUrl`"
        );
        assert_eq!(
            items(json!([{"repoUrl": {}}])).unwrap_err(),
            "items[0].repoUrl: invalid type: map, expected a string"
        );
        assert_eq!(body(json!({"id": null})).unwrap_err(), "missing field `id`");
    }
}
