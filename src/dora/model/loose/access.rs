//! Walking a body's objects and lists: fields found by DevLake's key matching, each value and
//! item carrying its path for the error message.

use serde::de::{self, DeserializeSeed, IntoDeserializer};
use serde_json::{Map, Value};

use super::{Loose, LooseError};

/// The key of `field`'s value in `object`: its exact name, else the first key (in byte order)
/// equal to it ignoring case. Compared without allocating: a body has a few keys, a type tens of
/// fields, and lowercasing each key for each field was most of a webhook's decoding.
pub(super) fn matching<'a>(object: &'a Map<String, Value>, field: &str) -> Option<&'a str> {
    if let Some((key, _)) = object.get_key_value(field) {
        return Some(key);
    }
    object
        .keys()
        .find(|key| same_ignoring_case(key, field))
        .map(String::as_str)
}

/// Whether `a` and `b` are equal once lowercased a character at a time (`char::to_lowercase`:
/// the Kelvin sign matches `k`); ASCII texts (every field name, almost every key) compare as bytes.
fn same_ignoring_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// An object's entries, each value located by its path.
pub(super) struct Fields {
    entries: std::vec::IntoIter<(String, Loose)>,
    next: Option<Loose>,
}

impl Fields {
    pub(super) fn new(entries: Vec<(String, Loose)>) -> Fields {
        Fields {
            entries: entries.into_iter(),
            next: None,
        }
    }
}

impl<'de> de::MapAccess<'de> for Fields {
    type Error = LooseError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, LooseError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.next = Some(value);
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, LooseError> {
        let value = self
            .next
            .take()
            .ok_or_else(|| de::Error::custom("a value without a key"))?;
        let path = value.path.clone();
        seed.deserialize(value).map_err(|e| e.at(&path))
    }
}

/// A list's items, each located by its path.
pub(super) struct Items(pub(super) std::vec::IntoIter<Loose>);

impl<'de> de::SeqAccess<'de> for Items {
    type Error = LooseError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, LooseError> {
        let Some(item) = self.0.next() else {
            return Ok(None);
        };
        let path = item.path.clone();
        seed.deserialize(item).map(Some).map_err(|e| e.at(&path))
    }
}
