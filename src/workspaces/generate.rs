//! A devfile made the DevWorkspace Che's dashboard creates for it (che-dashboard
//! 8c5dd8b128f7cf3e54f1a4f82b3f75f8ee47cde5 with its devworkspace generator 7.113.0-next-7b6a101;
//! docs/CHE.md lists each step and every deliberate difference). In order:
//!
//! 1. `FactoryResolver/helpers.ts` `normalizeDevfile`: the name (`metadata.name`, else
//!    `generateName` plus `-` and 4 random characters); the CheCluster's default components when
//!    the devfile has neither components nor a parent; `dw.metadata.annotations` gets
//!    `che.eclipse.org/devfile-source` (`url: {location}`) and `che.eclipse.org/devfile`.
//! 2. `prepareDevfile.ts`: `factory: {params: url=<devfile URL>}` added to the source; the storage
//!    type (the devfile's attribute, else the CheCluster's `pvcStrategy`), dropped when the parent
//!    sets one. (A 2.0.x devfile keeps these in `metadata.attributes`.)
//! 3. The generator (`generate.ts`): `metadata.attributes` merged into `attributes`;
//!    `dw.metadata.annotations` lifted into the DevWorkspace's annotations; the template is the
//!    devfile without `schemaVersion` and `metadata`; the first starter project chosen; the editor
//!    contributed by a DevWorkspaceTemplate `che-code-<name>` ([`editor`]).
//! 4. `devWorkspaceClient.ts` `createDevWorkspace`: created stopped, with the last-updated time,
//!    the editor id and the `kubernetes.io/metadata.name` label; `managePvcStrategy` (at start in
//!    Che, here at creation too) adds `controller.devfile.io/devworkspace-config`.

pub mod editor;

use serde_json::{Map, Value, json};

use super::che::CheSettings;
use crate::workspaces::model::{NewWorkspace, random_suffix, to_dns_label};

/// `apiVersion` of DevWorkspaces and DevWorkspaceTemplates.
pub const API_VERSION: &str = "workspace.devfile.io/v1alpha2";
/// The devfile attribute whose object becomes the DevWorkspace's annotations (the generator).
pub const DW_METADATA_ANNOTATIONS: &str = "dw.metadata.annotations";
/// Where the devfile came from, as Che records it (`url: {location}`, `factory: {params}`).
pub const CHE_DEVFILE_SOURCE: &str = "che.eclipse.org/devfile-source";
/// The devfile as written (the dashboard's Devfile tab shows it).
pub const CHE_DEVFILE: &str = "che.eclipse.org/devfile";
/// The last create or start (the dashboard's "last used").
pub const CHE_LAST_UPDATED: &str = "che.eclipse.org/last-updated-timestamp";
/// The editor's id.
pub const CHE_EDITOR: &str = "che.eclipse.org/che-editor";
/// The DevWorkspace Operator's storage strategy attribute.
pub const STORAGE_TYPE: &str = "controller.devfile.io/storage-type";
/// The attribute naming the DevWorkspaceOperatorConfig Che makes from its CheCluster.
pub const DEVWORKSPACE_CONFIG: &str = "controller.devfile.io/devworkspace-config";
/// The attribute naming the starter project to clone.
pub const USE_STARTER_PROJECT: &str = "controller.devfile.io/use-starter-project";
/// The label holding the workspace's display name (the dashboard sets it to the name).
pub const METADATA_NAME_LABEL: &str = "kubernetes.io/metadata.name";
/// Our workspace id (a label: every lookup is one label-selected list).
pub const LABEL_ID: &str = "fawkes.dev/workspace-id";
/// A hash of the owner's subject (labels hold at most 63 characters).
pub const LABEL_OWNER: &str = "fawkes.dev/owner";
/// The owner's subject in full.
pub const ANNOTATION_OWNER: &str = "fawkes.dev/owner";
/// The devfile's `metadata.name` (or the workspace's name when it has none).
pub const ANNOTATION_DEVFILE_NAME: &str = "fawkes.dev/devfile-name";
/// The devfile's `metadata.version`.
pub const ANNOTATION_DEVFILE_VERSION: &str = "fawkes.dev/devfile-version";
/// Che keeps the original devfile on the workspace; larger ones would crowd the 256 KiB
/// annotation budget, so they are left out.
const MAX_DEVFILE_ANNOTATION: usize = 64 * 1024;

/// What a workspace's resources are built from.
pub struct Build<'a> {
    /// The workspace's record (its devfile, URL, owner, time).
    pub new: &'a NewWorkspace,
    /// The DevWorkspace's name.
    pub name: &'a str,
    /// The user's namespace.
    pub namespace: &'a str,
    /// What the CheCluster says (or configuration, or Che's defaults).
    pub che: &'a CheSettings,
    /// The editor's id (`che.eclipse.org/che-editor`).
    pub editor: &'a str,
    /// The che-code injector's image.
    pub editor_image: &'a str,
    /// `spec.routingClass`.
    pub routing_class: &'a str,
    /// The parent's content sets a storage type (Che then drops the devfile's).
    pub parent_sets_storage_type: bool,
}

/// The name Che gives a workspace from its devfile: `metadata.name`, else `generateName` (or,
/// without either, the devfile URL's last path segment) plus `-` and 4 random characters
/// (`generateName.ts`, `getProjectName.ts`), made a Kubernetes name (`sanitizeName.ts`).
pub fn workspace_name(devfile: &Value, url: &str) -> String {
    let metadata = devfile.get("metadata");
    let text = |key: &str| {
        metadata
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let name = match (text("name"), text("generateName")) {
        (Some(name), _) => name.to_owned(),
        (None, Some(prefix)) => with_suffix(prefix),
        (None, None) => with_suffix(&project_name(url)),
    };
    // Che stops here; a name it would send empty or past a label value's 63 characters (the
    // `kubernetes.io/metadata.name` label holds it) the API server refuses, so it is fixed here.
    let mut name = sanitize(&name);
    if name.len() > 63 {
        name.truncate(63);
        name = name.trim_end_matches(['-', '.']).to_owned();
    }
    if name.is_empty() {
        name = with_suffix(&project_name(url));
    }
    name
}

/// `prefix` plus `-` and 4 random `[a-z0-9]`, the prefix cut so that the whole fits 63 characters.
pub fn with_suffix(prefix: &str) -> String {
    let suffix = random_suffix();
    let mut prefix = prefix.to_owned();
    if prefix.chars().count() + suffix.len() > 63 {
        prefix = prefix.chars().take(63 - suffix.len() - 1).collect();
    }
    format!("{prefix}{suffix}")
}

/// A name Kubernetes accepts (a DNS subdomain), as Che's `sanitizeName` makes it.
fn sanitize(name: &str) -> String {
    let label = |l: &str| !l.is_empty() && crate::names::is_dns_label(l);
    if name.split('.').all(label) {
        return name.to_owned();
    }
    let lower = name.to_lowercase();
    let trimmed = lower.trim_matches(|c: char| !c.is_ascii_lowercase() && !c.is_ascii_digit());
    trimmed
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The devfile URL's last path segment, as Che names a project (`getProjectName.ts`).
fn project_name(url: &str) -> String {
    let last = url.rsplit('/').next().unwrap_or_default();
    let last = last.strip_suffix(".git").unwrap_or(last);
    let name = to_dns_label(last, 62);
    if name.is_empty() {
        "workspace".into()
    } else {
        name
    }
}

/// The attributes Che writes into: a 2.0.x devfile's `metadata.attributes`, else `attributes`
/// (`DevfileAdapter.getAttributes`), made an object if need be.
fn attributes_of(devfile: &mut Value) -> &mut Map<String, Value> {
    let old = devfile
        .get("schemaVersion")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("2.0"));
    let holder = if old {
        let metadata = devfile
            .as_object_mut()
            .expect("a devfile is a mapping")
            .entry("metadata")
            .or_insert_with(|| json!({}));
        if !metadata.is_object() {
            *metadata = json!({});
        }
        metadata
    } else {
        devfile
    };
    let attributes = holder
        .as_object_mut()
        .expect("an object")
        .entry("attributes")
        .or_insert_with(|| json!({}));
    if !attributes.is_object() {
        *attributes = json!({});
    }
    attributes.as_object_mut().expect("an object")
}

/// lodash's `merge`: objects merged key by key and arrays index by index, recursively; `source`
/// wins on other values.
fn deep_merge(target: &mut Value, source: &Value) {
    match (target, source) {
        (Value::Object(t), Value::Object(s)) => {
            for (k, v) in s {
                match t.get_mut(k) {
                    Some(existing) if v.is_object() || v.is_array() => deep_merge(existing, v),
                    _ => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(t), Value::Array(s)) => {
            for (i, v) in s.iter().enumerate() {
                match t.get_mut(i) {
                    Some(existing) if v.is_object() || v.is_array() => deep_merge(existing, v),
                    Some(existing) => *existing = v.clone(),
                    None => t.push(v.clone()),
                }
            }
        }
        (target, source) => *target = source.clone(),
    }
}

/// The devfile's source as Che records it: `url: {location}` (`normalizeDevfile`) with
/// `factory: {params: url=<devfile URL>}` added (`prepareDevfile`), as YAML.
pub fn devfile_source(url: &str) -> String {
    #[derive(serde::Serialize)]
    struct Location<'a> {
        location: &'a str,
    }
    #[derive(serde::Serialize)]
    struct Factory {
        params: String,
    }
    #[derive(serde::Serialize)]
    struct Source<'a> {
        url: Location<'a>,
        factory: Factory,
    }
    let source = Source {
        url: Location { location: url },
        factory: Factory {
            params: format!("url={url}"),
        },
    };
    serde_saphyr::to_string(&source).unwrap_or_default()
}

/// The DevWorkspace, created stopped (Che starts it once its editor template exists).
pub fn devworkspace(build: &Build) -> Value {
    let new = build.new;
    let mut devfile = new.devfile.clone();
    if !devfile.is_object() {
        devfile = json!({});
    }
    let map = devfile.as_object_mut().expect("an object");
    let empty = map
        .get("components")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    if empty && !map.contains_key("parent") {
        map.insert(
            "components".into(),
            Value::Array(build.che.default_components.clone()),
        );
    }
    {
        let attributes = attributes_of(&mut devfile);
        let annotations = attributes
            .entry(DW_METADATA_ANNOTATIONS)
            .or_insert_with(|| json!({}));
        if !annotations.is_object() {
            *annotations = json!({});
        }
        annotations[CHE_DEVFILE_SOURCE] = json!(devfile_source(&new.devfile_url));
        if new.devfile_text.len() <= MAX_DEVFILE_ANNOTATION {
            annotations[CHE_DEVFILE] = json!(new.devfile_text);
        }
        let storage = attributes
            .get(STORAGE_TYPE)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| build.che.storage_type.clone());
        if let Some(storage) = storage {
            attributes.insert(STORAGE_TYPE.into(), json!(storage));
        }
        if build.parent_sets_storage_type {
            attributes.remove(STORAGE_TYPE);
        }
    }

    // The generator: metadata.attributes merged into attributes, then the annotations lifted.
    let map = devfile.as_object_mut().expect("an object");
    if let Some(meta_attributes) = map
        .get("metadata")
        .and_then(|m| m.get("attributes"))
        .cloned()
    {
        match map.get_mut("attributes") {
            Some(attributes) => deep_merge(attributes, &meta_attributes),
            None => {
                map.insert("attributes".into(), meta_attributes);
            }
        }
    }
    let mut annotations = Map::new();
    if let Some(attributes) = map.get_mut("attributes").and_then(Value::as_object_mut) {
        if let Some(Value::Object(lifted)) = attributes.remove(DW_METADATA_ANNOTATIONS) {
            annotations = lifted;
        }
        if attributes.is_empty() {
            map.remove("attributes");
        }
    }
    map.remove("schemaVersion");
    map.remove("metadata");
    let starter = map
        .get("starterProjects")
        .and_then(|s| s.get(0))
        .and_then(|s| s.get("name"))
        .cloned();
    let template_attributes = map.entry("attributes").or_insert_with(|| json!({}));
    if let Some(starter) = starter {
        template_attributes[USE_STARTER_PROJECT] = starter;
    }
    template_attributes[DEVWORKSPACE_CONFIG] =
        json!({"name": "devworkspace-config", "namespace": build.che.che_namespace});

    annotations.insert(CHE_LAST_UPDATED.into(), json!(new.now));
    annotations.insert(CHE_EDITOR.into(), json!(build.editor));
    annotations.insert(ANNOTATION_OWNER.into(), json!(new.owner.subject()));
    annotations.insert(ANNOTATION_DEVFILE_NAME.into(), json!(new.devfile_name));
    annotations.insert(
        ANNOTATION_DEVFILE_VERSION.into(),
        json!(new.devfile_version),
    );
    json!({
        "apiVersion": API_VERSION,
        "kind": "DevWorkspace",
        "metadata": {
            "name": build.name,
            "namespace": build.namespace,
            "labels": {
                METADATA_NAME_LABEL: build.name,
                LABEL_ID: new.id.as_str(),
                LABEL_OWNER: new.owner.label(),
            },
            "annotations": annotations,
        },
        "spec": {
            "started": false,
            "routingClass": build.routing_class,
            "template": devfile,
            "contributions": [
                {"name": "editor", "kubernetes": {"name": editor::template_name(build.name)}}
            ],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_che_gives_them() {
        let url = "https://example.com/org/repo/main/devfile.yaml";
        assert_eq!(
            workspace_name(&json!({"metadata": {"name": "py"}}), url),
            "py"
        );
        // Che's sanitizeName keeps a DNS subdomain, and makes anything else one.
        assert_eq!(
            workspace_name(&json!({"metadata": {"name": "my.app"}}), url),
            "my.app"
        );
        assert_eq!(
            workspace_name(&json!({"metadata": {"name": "_My App_"}}), url),
            "my-app"
        );
        let generated = workspace_name(&json!({"metadata": {"generateName": "python-"}}), url);
        assert!(
            generated.starts_with("python--") && generated.len() == 12,
            "{generated}"
        );
        let unnamed = workspace_name(&json!({}), url);
        assert!(
            unnamed.starts_with("devfile-yaml-") && unnamed.len() == 17,
            "{unnamed}"
        );
        let long = with_suffix(&"x".repeat(80));
        assert_eq!(long.len(), 62);
        assert!(
            workspace_name(&json!({"metadata": {"name": "___"}}), url).starts_with("devfile-yaml-")
        );
    }

    #[test]
    fn lodash_merge_and_the_source_as_yaml() {
        let mut target = json!({"a": {"x": 1, "y": [1, 2]}, "b": 1});
        deep_merge(
            &mut target,
            &json!({"a": {"y": [3], "z": 2}, "b": {"c": 1}}),
        );
        assert_eq!(
            target,
            json!({"a": {"x": 1, "y": [3, 2], "z": 2}, "b": {"c": 1}})
        );
        assert_eq!(
            devfile_source("https://example.com/d.yaml"),
            "url:\n  location: https://example.com/d.yaml\nfactory:\n  params: url=https://example.com/d.yaml\n"
        );
    }
}
