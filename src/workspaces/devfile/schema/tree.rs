//! The schema tree per version: one builder per schema object, mirroring `devfile.json`.

use super::super::SchemaVersion;
use super::{
    GROUP_KINDS_2_0, GROUP_KINDS_2_2, Node, Obj, PARENT_VERSION_PATTERN, SEMVER_PATTERN, arr,
    is_parent_version, is_semver, obj, strs,
};

/// What differs between schema versions, and between the top level and `parent` overrides
/// (where nothing but identifiers is required).
#[derive(Clone, Copy)]
struct Flavor {
    v2_2: bool,
    v2_2_2: bool,
    strict: bool,
}

/// The schema tree for `version`.
pub fn root(version: SchemaVersion) -> Node {
    let f = Flavor {
        v2_2: version.at_least(2, 2, 0),
        v2_2_2: version.at_least(2, 2, 2),
        strict: true,
    };
    let mut fields = vec![
        ("schemaVersion", Node::Str),
        ("metadata", metadata()),
        ("attributes", Node::AnyMap),
        ("variables", Node::StrMap),
        ("parent", parent(f)),
        ("projects", arr(project(f, "clonePath"))),
        ("starterProjects", arr(starter_project(f))),
        ("components", arr(component(f))),
        ("commands", arr(command(f))),
        ("events", events()),
    ];
    if f.v2_2_2 {
        fields.push(("dependentProjects", arr(project(f, "clonePath"))));
    }
    obj(fields).required(&["schemaVersion"]).node()
}

fn metadata() -> Node {
    obj(vec![
        ("name", Node::Str),
        ("version", Node::Pattern(SEMVER_PATTERN, is_semver)),
        ("displayName", Node::Str),
        ("description", Node::Str),
        ("tags", strs()),
        (
            "architectures",
            Node::Set(Box::new(Node::Enum(&[
                "amd64", "arm64", "ppc64le", "s390x",
            ]))),
        ),
        ("icon", Node::Str),
        ("globalMemoryLimit", Node::Str),
        ("projectType", Node::Str),
        ("language", Node::Str),
        ("website", Node::Str),
        ("provider", Node::Str),
        ("supportUrl", Node::Str),
        ("attributes", Node::AnyMap),
    ])
    .open()
    .node()
}

fn parent(f: Flavor) -> Node {
    let o = Flavor { strict: false, ..f };
    let mut fields = vec![
        ("uri", Node::Str),
        ("id", Node::Str),
        ("registryUrl", Node::Str),
        (
            "version",
            Node::Pattern(PARENT_VERSION_PATTERN, is_parent_version),
        ),
        (
            "kubernetes",
            obj(vec![("name", Node::Str), ("namespace", Node::Str)])
                .required(&["name"])
                .node(),
        ),
        ("attributes", Node::AnyMap),
        ("variables", Node::StrMap),
        ("projects", arr(project(o, "clonePath"))),
        ("starterProjects", arr(starter_project(o))),
        ("components", arr(component(o))),
        ("commands", arr(command(o))),
    ];
    if f.v2_2_2 {
        fields.push(("dependentProjects", arr(project(o, "clonePath"))));
    }
    obj(fields).one_of(&["uri", "id", "kubernetes"]).node()
}

fn git(f: Flavor, extra: &[(&'static str, Node)]) -> Node {
    let mut fields = vec![
        ("remotes", Node::StrMap),
        (
            "checkoutFrom",
            obj(vec![("remote", Node::Str), ("revision", Node::Str)]).node(),
        ),
    ];
    for (name, _) in extra {
        fields.push((name, Node::Str));
    }
    let o = obj(fields);
    if f.strict {
        o.required(&["remotes"]).node()
    } else {
        o.node()
    }
}

fn project(f: Flavor, path_field: &'static str) -> Node {
    obj(vec![
        ("name", Node::Id { max: 63 }),
        ("attributes", Node::AnyMap),
        (path_field, Node::Str),
        ("git", git(f, &[])),
        ("zip", obj(vec![("location", Node::Str)]).node()),
    ])
    .required(&["name"])
    .one_of(&["git", "zip"])
    .node()
}

fn starter_project(f: Flavor) -> Node {
    obj(vec![
        ("name", Node::Id { max: 63 }),
        ("attributes", Node::AnyMap),
        ("description", Node::Str),
        ("subDir", Node::Str),
        ("git", git(f, &[])),
        ("zip", obj(vec![("location", Node::Str)]).node()),
    ])
    .required(&["name"])
    .one_of(&["git", "zip"])
    .node()
}

fn component(f: Flavor) -> Node {
    obj(vec![
        ("name", Node::Id { max: 63 }),
        ("attributes", Node::AnyMap),
        ("container", container(f)),
        ("kubernetes", manifest(f)),
        ("openshift", manifest(f)),
        (
            "volume",
            obj(vec![("size", Node::Str), ("ephemeral", Node::Bool)]).node(),
        ),
        ("image", image(f)),
    ])
    .required(&["name"])
    .one_of(&["container", "kubernetes", "openshift", "volume", "image"])
    .node()
}

fn required_if(f: Flavor, o: Obj, names: &[&'static str]) -> Obj {
    if f.strict { o.required(names) } else { o }
}

fn env(f: Flavor) -> Node {
    let o = obj(vec![("name", Node::Str), ("value", Node::Str)]);
    let names: &[&str] = if f.strict {
        &["name", "value"]
    } else {
        &["name"]
    };
    arr(o.required(names).node())
}

fn endpoint(f: Flavor) -> Node {
    let mut fields = vec![
        (
            "name",
            Node::Id {
                max: if f.v2_2 { 15 } else { 63 },
            },
        ),
        ("targetPort", Node::Int),
        ("exposure", Node::Enum(&["public", "internal", "none"])),
        (
            "protocol",
            Node::Enum(&["http", "https", "ws", "wss", "tcp", "udp"]),
        ),
        ("secure", Node::Bool),
        ("path", Node::Str),
        ("attributes", Node::AnyMap),
    ];
    if f.v2_2 {
        fields.push(("annotation", Node::StrMap));
    }
    let o = obj(fields).required(&["name"]);
    required_if(f, o, &["targetPort"]).node()
}

fn container(f: Flavor) -> Node {
    let mut fields = vec![
        ("image", Node::Str),
        ("command", strs()),
        ("args", strs()),
        ("env", env(f)),
        ("memoryLimit", Node::Str),
        ("memoryRequest", Node::Str),
        ("cpuLimit", Node::Str),
        ("cpuRequest", Node::Str),
        ("mountSources", Node::Bool),
        ("sourceMapping", Node::Str),
        ("dedicatedPod", Node::Bool),
        (
            "volumeMounts",
            arr(
                obj(vec![("name", Node::Id { max: 63 }), ("path", Node::Str)])
                    .required(&["name"])
                    .node(),
            ),
        ),
        ("endpoints", arr(endpoint(f))),
    ];
    if f.v2_2 {
        fields.push((
            "annotation",
            obj(vec![
                ("deployment", Node::StrMap),
                ("service", Node::StrMap),
            ])
            .node(),
        ));
    }
    required_if(f, obj(fields), &["image"]).node()
}

fn manifest(f: Flavor) -> Node {
    obj(vec![
        ("uri", Node::Str),
        ("inlined", Node::Str),
        ("deployByDefault", Node::Bool),
        ("endpoints", arr(endpoint(f))),
    ])
    .one_of(&["uri", "inlined"])
    .node()
}

fn image(f: Flavor) -> Node {
    let mut dockerfile = vec![
        ("uri", Node::Str),
        ("buildContext", Node::Str),
        ("args", strs()),
        ("rootRequired", Node::Bool),
    ];
    let mut sources: &[&'static str] = &["uri"];
    if f.v2_2 {
        let registry = obj(vec![("id", Node::Str), ("registryUrl", Node::Str)]);
        dockerfile.push(("devfileRegistry", required_if(f, registry, &["id"]).node()));
        dockerfile.push(("git", git(f, &[("fileLocation", Node::Str)])));
        sources = &["uri", "devfileRegistry", "git"];
    }
    let o = obj(vec![
        ("imageName", Node::Str),
        ("autoBuild", Node::Bool),
        ("dockerfile", obj(dockerfile).one_of(sources).node()),
    ]);
    if f.strict {
        o.required(&["imageName"]).one_of(&["dockerfile"]).node()
    } else {
        o.one_of(&["dockerfile", "autoBuild"]).node()
    }
}

fn group(f: Flavor) -> Node {
    let kinds = if f.v2_2 {
        GROUP_KINDS_2_2
    } else {
        GROUP_KINDS_2_0
    };
    let o = obj(vec![("kind", Node::Enum(kinds)), ("isDefault", Node::Bool)]);
    required_if(f, o, &["kind"]).node()
}

fn command(f: Flavor) -> Node {
    let exec = obj(vec![
        ("commandLine", Node::Str),
        ("component", Node::Str),
        ("workingDir", Node::Str),
        ("env", env(f)),
        ("label", Node::Str),
        ("hotReloadCapable", Node::Bool),
        ("group", group(f)),
    ]);
    let apply = obj(vec![
        ("component", Node::Str),
        ("label", Node::Str),
        ("group", group(f)),
    ]);
    let composite = obj(vec![
        ("commands", strs()),
        ("parallel", Node::Bool),
        ("label", Node::Str),
        ("group", group(f)),
    ]);
    obj(vec![
        ("id", Node::Id { max: 63 }),
        ("attributes", Node::AnyMap),
        (
            "exec",
            required_if(f, exec, &["commandLine", "component"]).node(),
        ),
        ("apply", required_if(f, apply, &["component"]).node()),
        ("composite", composite.node()),
    ])
    .required(&["id"])
    .one_of(&["exec", "apply", "composite"])
    .node()
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
