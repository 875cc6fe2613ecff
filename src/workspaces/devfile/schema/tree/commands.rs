//! `commands[]`: exec, apply and composite commands, and 2.0.0's `vscodeTask`/`vscodeLaunch`.

use super::super::{GROUP_KINDS_2_0, GROUP_KINDS_2_2, Node, obj, strs};
use super::components::env;
use super::{Flavor, required_if};

fn group(f: Flavor) -> Node {
    let kinds = if f.v2_2 {
        GROUP_KINDS_2_2
    } else {
        GROUP_KINDS_2_0
    };
    let o = obj(vec![("kind", Node::Enum(kinds)), ("isDefault", Node::Bool)]);
    required_if(f, o, &["kind"]).node()
}

/// 2.0.0's VS Code task or launch configuration, by `uri` or `inlined`.
fn vscode(f: Flavor) -> Node {
    obj(vec![
        ("uri", Node::Str),
        ("inlined", Node::Str),
        ("group", group(f)),
    ])
    .one_of(&["uri", "inlined"])
    .node()
}

pub(super) fn command(f: Flavor) -> Node {
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
    let mut fields = vec![
        ("id", Node::Id { max: 63 }),
        ("attributes", Node::AnyMap),
        (
            "exec",
            required_if(f, exec, &["commandLine", "component"]).node(),
        ),
        ("apply", required_if(f, apply, &["component"]).node()),
        ("composite", composite.node()),
    ];
    let mut kinds = vec!["exec", "apply", "composite"];
    if !f.v2_1 {
        fields.push(("vscodeTask", vscode(f)));
        fields.push(("vscodeLaunch", vscode(f)));
        kinds.extend(["vscodeTask", "vscodeLaunch"]);
    }
    obj(fields).required(&["id"]).one_of(&kinds).node()
}
