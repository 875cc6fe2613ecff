//! Domain types: entity references, entities as JSON objects, locations. Parsing only; the rules
//! live in [`super::validate`] and [`super::relations`].

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

/// An entity, as the JSON object it is served as.
pub type Entity = Map<String, Value>;

/// The namespace of entities that name none.
pub const DEFAULT_NAMESPACE: &str = "default";
/// The annotation naming the location an entity was read from.
pub const MANAGED_BY_LOCATION: &str = "backstage.io/managed-by-location";
/// The annotation naming the location registered by a user that led to the entity.
pub const MANAGED_BY_ORIGIN_LOCATION: &str = "backstage.io/managed-by-origin-location";
/// The annotation of an entity its location no longer lists (kept by `orphan_strategy = "keep"`).
pub const ORPHAN: &str = "backstage.io/orphan";

/// `kind:namespace/name`, compared and printed lower-cased as Backstage does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityRef {
    /// The kind, lower-case (`component`).
    pub kind: String,
    /// The namespace, lower-case (`default`).
    pub namespace: String,
    /// The name, lower-case.
    pub name: String,
}

impl EntityRef {
    /// The ref of `kind:namespace/name`, lower-cased.
    pub fn new(kind: &str, namespace: &str, name: &str) -> EntityRef {
        EntityRef {
            kind: kind.to_ascii_lowercase(),
            namespace: namespace.to_ascii_lowercase(),
            name: name.to_ascii_lowercase(),
        }
    }

    /// Parses `[kind:][namespace/]name`; a `:` after the first `/` is part of the name.
    pub fn parse(
        text: &str,
        default_kind: Option<&str>,
        default_namespace: &str,
    ) -> Result<EntityRef, String> {
        let slash = text.find('/');
        let (kind, rest) = match text.find(':') {
            Some(colon) if slash.is_none_or(|s| colon < s) => {
                (Some(&text[..colon]), &text[colon + 1..])
            }
            _ => (None, text),
        };
        let (namespace, name) = match rest.split_once('/') {
            Some((ns, name)) => (Some(ns), name),
            None => (None, rest),
        };
        let Some(kind) = kind.or(default_kind) else {
            return Err(format!(
                "Entity reference \"{text}\" had missing or empty kind (e.g. did not start with \"component:\" or similar)"
            ));
        };
        let namespace = namespace.unwrap_or(default_namespace);
        if kind.is_empty() || namespace.is_empty() || name.is_empty() {
            return Err(format!(
                "Entity reference \"{text}\" was not on the form [<kind>:][<namespace>/]<name>"
            ));
        }
        Ok(EntityRef::new(kind, namespace, name))
    }

    /// The reference of `entity` (which has passed validation).
    pub fn of(entity: &Entity) -> EntityRef {
        let kind = entity.get("kind").and_then(Value::as_str).unwrap_or("");
        let meta = entity.get("metadata");
        let field = |f: &str| meta.and_then(|m| m.get(f)).and_then(Value::as_str);
        EntityRef::new(
            kind,
            field("namespace").unwrap_or(DEFAULT_NAMESPACE),
            field("name").unwrap_or(""),
        )
    }
}

impl fmt::Display for EntityRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}/{}", self.kind, self.namespace, self.name)
    }
}

/// How a location is read.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LocationType {
    Url,
    File,
}

impl LocationType {
    /// `url` or `file`; anything else is `None`.
    pub fn parse(text: &str) -> Option<LocationType> {
        match text {
            "url" => Some(LocationType::Url),
            "file" => Some(LocationType::File),
            _ => None,
        }
    }

    /// `url` or `file`.
    pub fn as_str(self) -> &'static str {
        match self {
            LocationType::Url => "url",
            LocationType::File => "file",
        }
    }
}

/// A place entities are read from: `url:<https url>` or `file:<absolute path>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocationSpec {
    /// Whether the target is a URL or a file path.
    pub kind: LocationType,
    /// The URL, or the absolute file path.
    pub target: String,
}

impl LocationSpec {
    /// `<type>:<target>`, the value of the managed-by annotations.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.target)
    }

    /// The ref of the Location entity Backstage generates for a registered location.
    pub fn generated_entity_ref(&self) -> String {
        format!("location:default/{}", self.generated_name())
    }

    /// The name of the generated Location entity: `generated-` and the SHA-1 of [`LocationSpec::key`], as Backstage names it.
    pub fn generated_name(&self) -> String {
        let digest = Sha1::digest(self.key().as_bytes());
        format!("generated-{}", hex(&digest))
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Processing state of a registered location.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LocationStatus {
    Processing,
    Ready,
    Failed,
}

impl LocationStatus {
    /// The status as stored and served (`processing`, `ready`, `failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            LocationStatus::Processing => "processing",
            LocationStatus::Ready => "ready",
            LocationStatus::Failed => "failed",
        }
    }

    /// A stored status; anything unknown reads as `processing`.
    pub fn parse(text: &str) -> LocationStatus {
        match text {
            "ready" => LocationStatus::Ready,
            "failed" => LocationStatus::Failed,
            _ => LocationStatus::Processing,
        }
    }
}

/// A registered location as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    /// The location's id (a UUID).
    pub id: String,
    /// Its type and target.
    pub spec: LocationSpec,
    /// Where its processing stands.
    pub status: LocationStatus,
    /// Problems of its last processing.
    pub errors: Vec<String>,
    /// When its last processing began (epoch ms), if one did.
    pub last_refreshed_at: Option<i64>,
    /// When it is next due for a refresh (epoch ms).
    pub next_refresh_at: i64,
    /// When it was registered (epoch ms).
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_parse_with_defaults_and_print_lowercase() {
        let r = EntityRef::parse("Team-A", Some("Group"), "default").unwrap();
        assert_eq!(r.to_string(), "group:default/team-a");
        let r = EntityRef::parse("component:ops/Svc", None, "default").unwrap();
        assert_eq!(r.to_string(), "component:ops/svc");
        let r = EntityRef::parse("ns/a:b", Some("api"), "default").unwrap();
        assert_eq!(r.to_string(), "api:ns/a:b");
        assert!(EntityRef::parse("foo", None, "default").is_err());
        assert!(EntityRef::parse("component:", None, "default").is_err());
    }

    #[test]
    fn generated_location_names_are_sha1_of_the_key() {
        let spec = LocationSpec {
            kind: LocationType::Url,
            target: "https://x/y.yaml".into(),
        };
        let name = spec.generated_name();
        assert!(name.starts_with("generated-") && name.len() == "generated-".len() + 40);
    }
}
