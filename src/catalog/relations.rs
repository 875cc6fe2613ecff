//! Relations generated from spec fields, in both directions, as Backstage's built-in processor does
//! (as Backstage's built-in kinds processor emits them). Each row is stored with the entity that produced it; an entity is served with
//! every row whose source it is, whoever produced it.

use std::sync::Arc;

use serde_json::Value;

use super::model::{Entity, EntityRef};

/// One directed edge `source -type-> target`. The refs are shared: an entity's edges all name it,
/// and a catalog being ingested holds every edge of every entity at once.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Relation {
    /// The entity the relation goes from.
    pub source: Arc<str>,
    /// The relation's type (`ownedBy`, `partOf`, ...).
    pub kind: &'static str,
    /// The entity it goes to.
    pub target: Arc<str>,
}

/// `(kinds the rule applies to, spec field, default target kind, forward, reverse)`.
type Rule = (
    &'static [&'static str],
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
);

const RULES: &[Rule] = &[
    (
        &[
            "Component",
            "API",
            "Resource",
            "System",
            "Domain",
            "Template",
        ],
        "owner",
        Some("Group"),
        "ownedBy",
        "ownerOf",
    ),
    (
        &["Component"],
        "subcomponentOf",
        Some("Component"),
        "partOf",
        "hasPart",
    ),
    (
        &["Component"],
        "providesApis",
        Some("API"),
        "providesApi",
        "apiProvidedBy",
    ),
    (
        &["Component"],
        "consumesApis",
        Some("API"),
        "consumesApi",
        "apiConsumedBy",
    ),
    (
        &["Component", "Resource"],
        "dependsOn",
        None,
        "dependsOn",
        "dependencyOf",
    ),
    (
        &["Component", "Resource"],
        "dependencyOf",
        None,
        "dependencyOf",
        "dependsOn",
    ),
    (
        &["Component", "API", "Resource"],
        "system",
        Some("System"),
        "partOf",
        "hasPart",
    ),
    (&["System"], "domain", Some("Domain"), "partOf", "hasPart"),
    (
        &["Domain"],
        "subdomainOf",
        Some("Domain"),
        "partOf",
        "hasPart",
    ),
    (
        &["User"],
        "memberOf",
        Some("Group"),
        "memberOf",
        "hasMember",
    ),
    (&["Group"], "parent", Some("Group"), "childOf", "parentOf"),
    (&["Group"], "children", Some("Group"), "parentOf", "childOf"),
    (&["Group"], "members", Some("User"), "hasMember", "memberOf"),
];

/// Every edge `entity` produces, forward and reverse; a ref that cannot be parsed is an error
/// naming the field, as it fails the entity's processing in Backstage.
pub fn relations_of(entity: &Entity) -> Result<Vec<Relation>, String> {
    let kind = entity.get("kind").and_then(Value::as_str).unwrap_or("");
    let this = EntityRef::of(entity);
    let me: Arc<str> = this.to_string().into();
    let Some(spec) = entity.get("spec").and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (kinds, field, default_kind, forward, reverse) in RULES {
        if !kinds.contains(&kind) {
            continue;
        }
        let values: Vec<&str> = match spec.get(*field) {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => continue,
        };
        for text in values {
            let target: Arc<str> = EntityRef::parse(text, *default_kind, &this.namespace)
                .map_err(|e| format!("'spec.{field}': {e}"))?
                .to_string()
                .into();
            out.push(Relation {
                source: me.clone(),
                kind: forward,
                target: target.clone(),
            });
            out.push(Relation {
                source: target,
                kind: reverse,
                target: me.clone(),
            });
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn owner_and_apis_give_both_directions() {
        let e = json!({"kind": "Component", "metadata": {"name": "svc", "namespace": "default"},
            "spec": {"owner": "team-a", "providesApis": ["ops/pay"], "system": "group:other/x"}});
        let r = relations_of(e.as_object().unwrap()).unwrap();
        let has = |s: &str, k: &str, t: &str| {
            r.iter()
                .any(|x| *x.source == *s && x.kind == k && *x.target == *t)
        };
        assert!(has(
            "component:default/svc",
            "ownedBy",
            "group:default/team-a"
        ));
        assert!(has(
            "group:default/team-a",
            "ownerOf",
            "component:default/svc"
        ));
        assert!(has("component:default/svc", "providesApi", "api:ops/pay"));
        assert!(has("api:ops/pay", "apiProvidedBy", "component:default/svc"));
        assert!(has("component:default/svc", "partOf", "group:other/x"));
    }

    #[test]
    fn depends_on_needs_a_kind() {
        let e = json!({"kind": "Component", "metadata": {"name": "svc"}, "spec": {"dependsOn": ["db"]}});
        let err = relations_of(e.as_object().unwrap()).unwrap_err();
        assert!(err.contains("spec.dependsOn"), "{err}");
    }
}
