//! `components[]`: containers, Kubernetes/OpenShift manifests, volumes, images (2.2.0+) and 2.0.0's
//! plugins, whose own components and commands are overriding content.

use super::super::{Node, arr, obj, strs};
use super::{Flavor, commands, git, kubernetes_reference, required_if};

/// A component; `plugins` says whether a plugin may appear (not inside a plugin).
pub(super) fn component(f: Flavor, plugins: bool) -> Node {
    let mut fields = vec![
        ("name", Node::Id { max: 63 }),
        ("attributes", Node::AnyMap),
        ("container", container(f)),
        ("kubernetes", manifest(f)),
        ("openshift", manifest(f)),
        ("volume", volume(f)),
    ];
    let mut kinds: Vec<&'static str> = vec!["container", "kubernetes", "openshift", "volume"];
    if f.v2_2 {
        fields.push(("image", image(f)));
        kinds.push("image");
    }
    if !f.v2_1 && plugins {
        fields.push(("plugin", plugin(f)));
        kinds.push("plugin");
    }
    obj(fields).required(&["name"]).one_of(&kinds).node()
}

/// 2.0.0's plugin: a devfile or DevWorkspaceTemplate imported by `uri`, `id` or `kubernetes`, with
/// overrides of its components and commands.
fn plugin(f: Flavor) -> Node {
    let o = f.overriding();
    obj(vec![
        ("uri", Node::Str),
        ("id", Node::Str),
        ("registryUrl", Node::Str),
        ("kubernetes", kubernetes_reference(f)),
        ("components", arr(component(o, false))),
        ("commands", arr(commands::command(o))),
    ])
    .one_of(&["uri", "id", "kubernetes"])
    .node()
}

fn volume(f: Flavor) -> Node {
    let mut fields = vec![("size", Node::Str)];
    if f.v2_1 {
        fields.push(("ephemeral", Node::Bool));
    }
    obj(fields).node()
}

pub(super) fn env(f: Flavor) -> Node {
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
    if f.v2_1 {
        fields.extend([
            ("memoryRequest", Node::Str),
            ("cpuLimit", Node::Str),
            ("cpuRequest", Node::Str),
        ]);
    }
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
    let mut fields = vec![
        ("uri", Node::Str),
        ("inlined", Node::Str),
        ("endpoints", arr(endpoint(f))),
    ];
    if f.v2_2 {
        fields.push(("deployByDefault", Node::Bool));
    }
    obj(fields).one_of(&["uri", "inlined"]).node()
}

fn image(f: Flavor) -> Node {
    let registry = obj(vec![("id", Node::Str), ("registryUrl", Node::Str)]);
    let dockerfile = obj(vec![
        ("uri", Node::Str),
        ("buildContext", Node::Str),
        ("args", strs()),
        ("rootRequired", Node::Bool),
        ("devfileRegistry", required_if(f, registry, &["id"]).node()),
        ("git", git(f, &["fileLocation"])),
    ])
    .one_of(&["uri", "devfileRegistry", "git"]);
    let o = obj(vec![
        ("imageName", Node::Str),
        ("autoBuild", Node::Bool),
        ("dockerfile", dockerfile.node()),
    ]);
    if f.strict {
        o.required(&["imageName"]).one_of(&["dockerfile"]).node()
    } else {
        o.one_of(&["dockerfile", "autoBuild"]).node()
    }
}
