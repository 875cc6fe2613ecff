//! Where an entity came from: the Location entity Backstage generates for a registered location,
//! the origin annotations every entity gets, and nested targets resolved against their parent.

use std::path::Path;

use serde_json::{Value, json};

use crate::catalog::model::{
    Entity, LocationSpec, LocationType, MANAGED_BY_LOCATION, MANAGED_BY_ORIGIN_LOCATION,
};
use crate::catalog::read::{ReadError, Reader};
use crate::catalog::scm::annotate_source;

/// The Location entity Backstage generates for a registered location.
pub fn generated_location(spec: &LocationSpec) -> Entity {
    let key = spec.key();
    let value = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Location",
        "metadata": {
            "name": spec.generated_name(),
            "namespace": "default",
            "annotations": {MANAGED_BY_LOCATION: key, MANAGED_BY_ORIGIN_LOCATION: key},
        },
        "spec": {"type": spec.kind.as_str(), "target": spec.target},
    });
    let mut entity = match value {
        Value::Object(map) => map,
        _ => Entity::new(),
    };
    if let Some(Value::Object(a)) = entity
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
    {
        annotate_source(a, spec);
    }
    entity
}

/// The managed-by annotations (always set), and for `url` files Backstage's view/edit/source
/// annotations (the entity's own values win).
pub(super) fn annotate(entity: &mut Entity, spec: &LocationSpec, origin: &str) {
    let Some(Value::Object(meta)) = entity.get_mut("metadata") else {
        return;
    };
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Default::default()));
    let Value::Object(a) = annotations else {
        return;
    };
    a.insert(MANAGED_BY_LOCATION.into(), spec.key().into());
    a.insert(MANAGED_BY_ORIGIN_LOCATION.into(), origin.into());
    annotate_source(a, spec);
}

/// `spec.target` and `spec.targets[]` of a Location entity read from `parent`, resolved against it.
/// An optional `file` target is left out only when it is missing inside the roots: outside them,
/// leaving it out would tell whether the file exists.
pub(crate) fn nested_targets(
    entity: &Entity,
    parent: &LocationSpec,
    reader: &Reader,
) -> Vec<Result<LocationSpec, ReadError>> {
    let spec = entity.get("spec");
    let kind_text = spec.and_then(|s| s.get("type")).and_then(Value::as_str);
    let optional = spec.and_then(|s| s.get("presence")).and_then(Value::as_str) == Some("optional");
    let mut targets: Vec<&str> = Vec::new();
    if let Some(t) = spec.and_then(|s| s.get("target")).and_then(Value::as_str) {
        targets.push(t);
    }
    if let Some(Value::Array(items)) = spec.and_then(|s| s.get("targets")) {
        targets.extend(items.iter().filter_map(Value::as_str));
    }
    let kind = match kind_text {
        None => Some(parent.kind),
        Some(t) => LocationType::parse(t),
    };
    targets
        .into_iter()
        .filter_map(|target| {
            let Some(kind) = kind else {
                return Some(Err(ReadError::Refused(format!(
                    "location type '{}' is not supported (use url or file)",
                    kind_text.unwrap_or_default()
                ))));
            };
            let resolved = resolve(kind, target, parent);
            if optional
                && let Ok(spec) = &resolved
                && spec.kind == LocationType::File
                && matches!(
                    reader.canonical_file(&spec.target),
                    Err(ReadError::NotFound(..))
                )
            {
                return None;
            }
            Some(resolved)
        })
        .collect()
}

pub(super) fn resolve(
    kind: LocationType,
    target: &str,
    parent: &LocationSpec,
) -> Result<LocationSpec, ReadError> {
    let target = match (kind, parent.kind) {
        (LocationType::File, LocationType::File) if !Path::new(target).is_absolute() => {
            let dir = Path::new(&parent.target).parent().unwrap_or(Path::new("/"));
            dir.join(target).display().to_string()
        }
        (LocationType::Url, LocationType::Url) => url::Url::parse(&parent.target)
            .and_then(|base| base.join(target))
            .map(|u| u.to_string())
            .map_err(|e| ReadError::Refused(format!("'{target}' is not a valid URL: {e}")))?,
        _ => target.to_owned(),
    };
    Ok(LocationSpec { kind, target })
}

pub(super) fn file_name(target: &str) -> &str {
    let trimmed = target.split(['?', '#']).next().unwrap_or(target);
    trimmed
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(target)
}
