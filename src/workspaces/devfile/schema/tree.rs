//! The schema tree per version: one builder per schema object, mirroring each version's
//! `devfile.json` (devfile/api tags v2.0.0, v2.1.0, v2.2.0, v2.2.2; 2.2.1 has 2.2.0's rules and
//! 2.3.0 has 2.2.2's). What arrives when:
//!
//! - 2.1.0: top-level `attributes` and `variables` (also in `parent`), container `cpuLimit`,
//!   `cpuRequest`, `memoryRequest`, volume `ephemeral`, metadata `language`, `projectType`,
//!   `website`; 2.0.0's `plugin` components, `vscodeTask`/`vscodeLaunch` commands and `github`
//!   projects (with `sparseCheckoutDirs`) are gone;
//! - 2.2.0: `image` components, `deploy` group kind, `annotation` fields, `deployByDefault`,
//!   `parent.version`, metadata `architectures`, `provider`, `supportUrl`; endpoint names shrink
//!   from 63 to 15 characters;
//! - 2.2.2: `dependentProjects`.

mod commands;
mod components;

use super::super::SchemaVersion;
use super::{
    Node, Obj, PARENT_VERSION_PATTERN, SEMVER_PATTERN, arr, is_parent_version, is_semver, obj, strs,
};

/// What differs between schema versions, and between the top level and overriding content
/// (`parent` overrides, a plugin's components and commands), where nothing but identifiers is
/// required.
#[derive(Clone, Copy)]
pub(super) struct Flavor {
    pub v2_1: bool,
    pub v2_2: bool,
    pub v2_2_2: bool,
    pub strict: bool,
}

impl Flavor {
    /// The same version, for overriding content.
    pub fn overriding(self) -> Flavor {
        Flavor {
            strict: false,
            ..self
        }
    }
}

/// The schema tree for `version`.
pub fn root(version: SchemaVersion) -> Node {
    let f = Flavor {
        v2_1: version.at_least(2, 1, 0),
        v2_2: version.at_least(2, 2, 0),
        v2_2_2: version.at_least(2, 2, 2),
        strict: true,
    };
    let mut fields = vec![
        ("schemaVersion", Node::Str),
        ("metadata", metadata(f)),
        ("parent", parent(f)),
        ("projects", arr(project(f))),
        ("starterProjects", arr(starter_project(f))),
        ("components", arr(components::component(f, true))),
        ("commands", arr(commands::command(f))),
        ("events", events()),
    ];
    if f.v2_1 {
        fields.push(("attributes", Node::AnyMap));
        fields.push(("variables", Node::StrMap));
    }
    if f.v2_2_2 {
        fields.push(("dependentProjects", arr(project(f))));
    }
    obj(fields).required(&["schemaVersion"]).node()
}

/// `metadata` is open (`additionalProperties: true`): a field a version does not know is not
/// checked at all in that version.
fn metadata(f: Flavor) -> Node {
    let mut fields = vec![
        ("name", Node::Str),
        ("version", Node::Pattern(SEMVER_PATTERN, is_semver)),
        ("displayName", Node::Str),
        ("description", Node::Str),
        ("tags", strs()),
        ("icon", Node::Str),
        ("globalMemoryLimit", Node::Str),
        ("attributes", Node::AnyMap),
    ];
    if f.v2_1 {
        fields.extend([
            ("projectType", Node::Str),
            ("language", Node::Str),
            ("website", Node::Str),
        ]);
    }
    if f.v2_2 {
        fields.extend([
            (
                "architectures",
                Node::Set(Box::new(Node::Enum(&[
                    "amd64", "arm64", "ppc64le", "s390x",
                ]))),
            ),
            ("provider", Node::Str),
            ("supportUrl", Node::Str),
        ]);
    }
    obj(fields).open().node()
}

fn parent(f: Flavor) -> Node {
    let o = f.overriding();
    let mut fields = vec![
        ("uri", Node::Str),
        ("id", Node::Str),
        ("registryUrl", Node::Str),
        ("kubernetes", kubernetes_reference(f)),
        ("projects", arr(project(o))),
        ("starterProjects", arr(starter_project(o))),
        ("components", arr(components::component(o, true))),
        ("commands", arr(commands::command(o))),
    ];
    if f.v2_1 {
        fields.push(("attributes", Node::AnyMap));
        fields.push(("variables", Node::StrMap));
    }
    if f.v2_2 {
        fields.push((
            "version",
            Node::Pattern(PARENT_VERSION_PATTERN, is_parent_version),
        ));
    }
    if f.v2_2_2 {
        fields.push(("dependentProjects", arr(project(o))));
    }
    obj(fields).one_of(&["uri", "id", "kubernetes"]).node()
}

/// `{name, namespace}` of a DevWorkspaceTemplate (a parent or a plugin).
pub(super) fn kubernetes_reference(f: Flavor) -> Node {
    let o = obj(vec![("name", Node::Str), ("namespace", Node::Str)]);
    required_if(f, o, &["name"]).node()
}

pub(super) fn required_if(f: Flavor, o: Obj, names: &[&'static str]) -> Obj {
    if f.strict { o.required(names) } else { o }
}

pub(super) fn git(f: Flavor, extra: &[&'static str]) -> Node {
    let mut fields = vec![
        ("remotes", Node::StrMap),
        (
            "checkoutFrom",
            obj(vec![("remote", Node::Str), ("revision", Node::Str)]).node(),
        ),
    ];
    for name in extra {
        fields.push((name, Node::Str));
    }
    required_if(f, obj(fields), &["remotes"]).node()
}

/// The sources a project may come from: 2.0.0 also knows `github`.
fn sources(f: Flavor) -> &'static [&'static str] {
    if f.v2_1 {
        &["git", "zip"]
    } else {
        &["git", "github", "zip"]
    }
}

fn project(f: Flavor) -> Node {
    let mut fields = vec![
        ("name", Node::Id { max: 63 }),
        ("attributes", Node::AnyMap),
        ("clonePath", Node::Str),
        ("git", git(f, &[])),
        ("zip", obj(vec![("location", Node::Str)]).node()),
    ];
    if !f.v2_1 {
        fields.push(("github", git(f, &[])));
        fields.push(("sparseCheckoutDirs", strs()));
    }
    obj(fields).required(&["name"]).one_of(sources(f)).node()
}

fn starter_project(f: Flavor) -> Node {
    let mut fields = vec![
        ("name", Node::Id { max: 63 }),
        ("attributes", Node::AnyMap),
        ("description", Node::Str),
        ("subDir", Node::Str),
        ("git", git(f, &[])),
        ("zip", obj(vec![("location", Node::Str)]).node()),
    ];
    if !f.v2_1 {
        fields.push(("github", git(f, &[])));
    }
    obj(fields).required(&["name"]).one_of(sources(f)).node()
}

fn events() -> Node {
    obj(vec![
        ("preStart", strs()),
        ("postStart", strs()),
        ("preStop", strs()),
        ("postStop", strs()),
    ])
    .node()
}
