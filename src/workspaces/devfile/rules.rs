//! devfile/library's rules beyond the schema (`devfile/api` `pkg/validation`), run on a
//! schema-valid (and flattened: parent merged) document. Messages keep the Go code's wording
//! after the path. Endpoint names follow each version's schema only (63 characters before 2.2.0:
//! the DevWorkspace Operator names a longer endpoint's port `<targetPort>-<protocol>`). Several
//! default commands in a group are a warning, as in Che (the DevWorkspace Operator never runs that
//! check).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value};

mod commands;

use super::{Findings, Path, SchemaVersion, quantity};
use commands::{commands_rules, events_rules};

const RESERVED_ENV: &[&str] = &["PROJECT_SOURCE", "PROJECTS_ROOT"];

/// Checks devfile/library's rules (components, commands, events, variables) on a schema-valid document, adding what it finds.
pub fn check(doc: &Value, _version: SchemaVersion, findings: &mut Findings) {
    let empty = Vec::new();
    let list = |key: &str| doc.get(key).and_then(Value::as_array).unwrap_or(&empty);
    let variables: HashMap<&str, &str> = doc
        .get("variables")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    let components = list("components");
    let commands = list("commands");
    components_rules(components, &variables, findings);
    annotation_rules(components, findings);
    commands_rules(commands, components, findings);
    events_rules(doc.get("events"), commands, findings);
    for key in ["projects", "dependentProjects"] {
        projects_rules(key, list(key), false, findings);
    }
    projects_rules("starterProjects", list("starterProjects"), true, findings);
}

fn name(item: &Value) -> &str {
    item.get("name").and_then(Value::as_str).unwrap_or_default()
}

fn at(parts: &[PathPart]) -> Path {
    let mut path = Path::default();
    for part in parts {
        match part {
            PathPart::K(k) => path.key(k),
            PathPart::I(i) => path.index(*i),
        }
    }
    path
}

enum PathPart<'a> {
    K(&'a str),
    I(usize),
}
use PathPart::{I, K};

fn substitute(text: &str, variables: &HashMap<&str, &str>) -> String {
    let mut out = text.to_owned();
    for (key, value) in variables {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    out
}

fn components_rules(
    components: &[Value],
    variables: &HashMap<&str, &str>,
    findings: &mut Findings,
) {
    let errors = &mut findings.errors;
    let mut seen = HashSet::new();
    let volumes: HashSet<&str> = components
        .iter()
        .filter(|c| c.get("volume").is_some())
        .map(name)
        .collect();
    let mut endpoint_names = HashSet::new();
    let mut ports: HashMap<i64, &str> = HashMap::new();
    for (i, component) in components.iter().enumerate() {
        let component_name = name(component);
        if !seen.insert(component_name) {
            errors.push(at(&[K("components"), I(i), K("name")]).rule(format!(
                ": duplicate key: {component_name} (component names must be unique)"
            )));
        }
        for kind in ["container", "kubernetes", "openshift"] {
            let Some(body) = component.get(kind) else {
                continue;
            };
            let endpoints = body.get("endpoints").and_then(Value::as_array);
            for (j, endpoint) in endpoints.into_iter().flatten().enumerate() {
                let endpoint_name = name(endpoint);
                let path = at(&[
                    K("components"),
                    I(i),
                    K(kind),
                    K("endpoints"),
                    I(j),
                    K("name"),
                ]);
                if !endpoint_names.insert(endpoint_name) {
                    errors.push(path.rule(format!(
                        ": devfile contains multiple endpoint entries with same name: {endpoint_name}"
                    )));
                }
                if kind == "container"
                    && let Some(port) = endpoint.get("targetPort").and_then(Value::as_i64)
                    && let Some(other) = ports.insert(port, component_name)
                    && other != component_name
                {
                    errors.push(
                        at(&[K("components"), I(i), K(kind), K("endpoints"), I(j), K("targetPort")])
                            .rule(format!(
                                ": devfile contains multiple containers with same endpoint targetPort: {port}"
                            )),
                    );
                }
            }
            if kind != "container"
                && let Some(uri) = body.get("uri").and_then(Value::as_str)
                && uri.starts_with("http")
                && url::Url::parse(uri).is_err()
            {
                errors.push(
                    at(&[K("components"), I(i), K(kind), K("uri")])
                        .rule(format!("'{uri}' is not a valid URL")),
                );
            }
        }
        if let Some(container) = component.get("container") {
            container_rules(i, component_name, container, &volumes, variables, errors);
        }
        if let Some(size) = component
            .get("volume")
            .and_then(|v| v.get("size"))
            .and_then(Value::as_str)
            && quantity::parse(&substitute(size, variables)).is_none()
        {
            errors.push(
                at(&[K("components"), I(i), K("volume"), K("size")]).rule(format!(
                    "'{size}' is not a Kubernetes quantity such as 2Gi or 1024Mi"
                )),
            );
        }
        if let Some(git) = component
            .pointer("/image/dockerfile/git")
            .and_then(Value::as_object)
        {
            let path = at(&[K("components"), I(i), K("image"), K("dockerfile"), K("git")]);
            let remotes = git.get("remotes").and_then(Value::as_object);
            if remotes.map_or(0, Map::len) != 1 {
                errors.push(path.rule(format!(
                    ": component {component_name} should have one remote only"
                )));
            }
            checkout_remote(git, remotes, &path, component_name, errors);
        }
    }
}

/// Rule 8: containers that share a pod (`dedicatedPod: false`) share its deployment and service,
/// so an annotation key may not carry different values in two of them.
fn annotation_rules(components: &[Value], findings: &mut Findings) {
    for kind in ["deployment", "service"] {
        let mut first: HashMap<&str, (&str, &str)> = HashMap::new();
        for (i, component) in components.iter().enumerate() {
            let Some(container) = component.get("container") else {
                continue;
            };
            if container.get("dedicatedPod").and_then(Value::as_bool) != Some(false) {
                continue;
            }
            let annotations = container
                .get("annotation")
                .and_then(|a| a.get(kind))
                .and_then(Value::as_object);
            for (key, value) in annotations.into_iter().flatten() {
                let value = value.as_str().unwrap_or_default();
                match first.get(key.as_str()) {
                    Some((earlier, owner)) if *earlier != value => findings.errors.push(
                        at(&[K("components"), I(i), K("container"), K("annotation"), K(kind), K(key)]).rule(format!(
                            ": {kind} annotation {key} has different values in components {owner} and {} \
                             (containers without a dedicated pod share one {kind})",
                            name(component)
                        )),
                    ),
                    Some(_) => {}
                    None => {
                        first.insert(key, (value, name(component)));
                    }
                }
            }
        }
    }
}

fn container_rules(
    i: usize,
    component_name: &str,
    container: &Value,
    volumes: &HashSet<&str>,
    variables: &HashMap<&str, &str>,
    errors: &mut Vec<super::Violation>,
) {
    let mounts = container.get("volumeMounts").and_then(Value::as_array);
    for (j, mount) in mounts.into_iter().flatten().enumerate() {
        let mount_name = name(mount);
        if !volumes.contains(mount_name) {
            errors.push(
                at(&[K("components"), I(i), K("container"), K("volumeMounts"), I(j), K("name")])
                    .rule(format!(": unable to find the following volume mounts in devfile volume components: volume mount {mount_name} belonging to the container component {component_name}")),
            );
        }
    }
    let env = container.get("env").and_then(Value::as_array);
    for (j, var) in env.into_iter().flatten().enumerate() {
        let var_name = name(var);
        if RESERVED_ENV.contains(&var_name) {
            errors.push(
                at(&[K("components"), I(i), K("container"), K("env"), I(j), K("name")]).rule(
                    format!(": env variable {var_name} is reserved and cannot be customized in component {component_name}"),
                ),
            );
        }
    }
    let mut values = BTreeMap::new();
    for key in ["memoryLimit", "memoryRequest", "cpuLimit", "cpuRequest"] {
        let Some(text) = container.get(key).and_then(Value::as_str) else {
            continue;
        };
        match quantity::parse(&substitute(text, variables)) {
            Some(value) => {
                values.insert(key, value);
            }
            None => errors.push(
                at(&[K("components"), I(i), K("container"), K(key)]).rule(format!(
                    "'{text}' is not a Kubernetes quantity such as 512Mi or 500m (error parsing {key} requirement)"
                )),
            ),
        }
    }
    for (request, limit) in [("memoryRequest", "memoryLimit"), ("cpuRequest", "cpuLimit")] {
        if let (Some(r), Some(l)) = (values.get(request), values.get(limit))
            && *l > 0.0
            && r > l
        {
            errors.push(
                at(&[K("components"), I(i), K("container"), K(request)]).rule(format!(
                    ": invalid resource request for component {component_name}: {request} is greater than {limit}."
                )),
            );
        }
    }
}

fn checkout_remote(
    git: &Map<String, Value>,
    remotes: Option<&Map<String, Value>>,
    path: &Path,
    owner: &str,
    errors: &mut Vec<super::Violation>,
) {
    if let Some(remote) = git
        .get("checkoutFrom")
        .and_then(|c| c.get("remote"))
        .and_then(Value::as_str)
        && !remotes.is_some_and(|r| r.contains_key(remote))
    {
        errors.push(path.rule(format!(
            ": unable to find the checkout remote {remote} in the remotes for {owner}"
        )));
    }
}

fn projects_rules(key: &str, projects: &[Value], starter: bool, findings: &mut Findings) {
    for (i, project) in projects.iter().enumerate() {
        let Some(git) = project.get("git").and_then(Value::as_object) else {
            continue;
        };
        let project_name = name(project);
        let path = at(&[K(key), I(i), K("git")]);
        let remotes = git.get("remotes").and_then(Value::as_object);
        let count = remotes.map_or(0, Map::len);
        let label = if starter { "starterProject" } else { "project" };
        if starter && count != 1 {
            findings.errors.push(path.rule(format!(
                ": starterProject {project_name} should have one remote only"
            )));
        } else if count == 0 {
            findings.errors.push(path.rule(format!(
                ": project {project_name} should have at least one remote"
            )));
        } else if count > 1
            && git
                .get("checkoutFrom")
                .and_then(|c| c.get("remote"))
                .is_none()
        {
            findings.errors.push(path.rule(format!(
                ": project {project_name} has more than one remote defined, but has no checkoutfrom remote defined"
            )));
        }
        checkout_remote(
            git,
            remotes,
            &path,
            &format!("{label} {project_name}"),
            &mut findings.errors,
        );
    }
}
