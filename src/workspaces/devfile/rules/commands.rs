//! devfile/library's command and event rules: ids, targets, composites, event kinds, defaults.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use super::super::{Findings, Path};
use super::PathPart::{I, K};
use super::{at, name};

fn command_id(command: &Value) -> String {
    command
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_lowercase()
}

pub(super) fn commands_rules(commands: &[Value], components: &[Value], findings: &mut Findings) {
    let by_id: HashMap<String, &Value> = commands.iter().map(|c| (command_id(c), c)).collect();
    // A 2.0.0 plugin's components are only known once the operator resolves it: a command may
    // name one of them.
    let plugins = components.iter().any(|c| c.get("plugin").is_some());
    let mut seen = HashSet::new();
    let mut defaults: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut in_group: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, command) in commands.iter().enumerate() {
        let id = command_id(command);
        let path = at(&[K("commands"), I(i)]);
        if !seen.insert(id.clone()) {
            findings
                .errors
                .push(at(&[K("commands"), I(i), K("id")]).rule(format!(
                    ": duplicate key: {id} (command ids must be unique)"
                )));
        }
        let (kind, body) = ["exec", "apply", "composite", "vscodeTask", "vscodeLaunch"]
            .iter()
            .find_map(|k| command.get(*k).map(|b| (*k, b)))
            .unwrap_or(("exec", &Value::Null));
        if let Some(group) = body.get("group")
            && let Some(group_kind) = group.get("kind").and_then(Value::as_str)
        {
            *in_group.entry(group_kind).or_default() += 1;
            if group.get("isDefault").and_then(Value::as_bool) == Some(true) {
                defaults.entry(group_kind).or_default().push(id.clone());
            }
        }
        match kind {
            "exec" | "apply" => {
                let target = body
                    .get("component")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let allowed: &[&str] = if kind == "exec" {
                    &["container"]
                } else {
                    &["container", "image", "kubernetes", "openshift"]
                };
                let found = components
                    .iter()
                    .any(|c| name(c) == target && allowed.iter().any(|k| c.get(*k).is_some()));
                if !found && !plugins {
                    findings.errors.push(path.rule(format!(
                        ": the command \"{id}\" is invalid - command does not map to a valid component (\"{target}\" is not a {} component)",
                        allowed.join(" or ")
                    )));
                }
            }
            "vscodeTask" | "vscodeLaunch" => {}
            _ => {
                let mut stack = vec![id.clone()];
                composite(&id, body, &by_id, &mut stack, &path, findings);
            }
        }
    }
    // devfile/library's MissingDefaultCmdWarning: several commands in a group, none the default.
    for (kind, count) in &in_group {
        if *count > 1 && !defaults.contains_key(kind) {
            findings.warnings.push(format!(
                "command group {kind} has {count} commands but no default (isDefault: true); tools pick one themselves"
            ));
        }
    }
    for (kind, ids) in defaults {
        if ids.len() > 1 {
            findings.warnings.push(format!(
                "command group {kind} has several default commands ({}); Che accepts this and uses the first",
                ids.join(", ")
            ));
        }
    }
}

fn composite(
    id: &str,
    body: &Value,
    by_id: &HashMap<String, &Value>,
    stack: &mut Vec<String>,
    path: &Path,
    findings: &mut Findings,
) {
    let children = body.get("commands").and_then(Value::as_array);
    for child in children.into_iter().flatten().filter_map(Value::as_str) {
        let child = child.to_lowercase();
        if child == stack[0] && stack.len() == 1 {
            findings.errors.push(path.rule(format!(
                ": the command \"{id}\" is invalid - composite command cannot reference itself"
            )));
            continue;
        }
        if stack.contains(&child) {
            findings.errors.push(path.rule(format!(
                ": the command \"{}\" is invalid - composite command cannot indirectly reference itself",
                stack[0]
            )));
            continue;
        }
        match by_id.get(&child) {
            None => findings.errors.push(path.rule(format!(
                ": the command \"{child}\" mentioned in the composite command \"{id}\" does not exist in the devfile"
            ))),
            Some(sub) => {
                if let Some(sub_body) = sub.get("composite") {
                    stack.push(child.clone());
                    composite(&child, sub_body, by_id, stack, path, findings);
                    stack.pop();
                }
            }
        }
    }
}

pub(super) fn events_rules(events: Option<&Value>, commands: &[Value], findings: &mut Findings) {
    let Some(events) = events.and_then(Value::as_object) else {
        return;
    };
    let by_id: HashMap<String, &Value> = commands.iter().map(|c| (command_id(c), c)).collect();
    for (event, expected) in [
        ("preStart", "apply"),
        ("postStart", "exec"),
        ("preStop", "exec"),
        ("postStop", "apply"),
    ] {
        let entries = events.get(event).and_then(Value::as_array);
        for (i, entry) in entries.into_iter().flatten().enumerate() {
            let Some(id) = entry.as_str() else { continue };
            let path = at(&[K("events"), K(event), I(i)]);
            match by_id.get(&id.to_lowercase()) {
                None => findings.errors.push(path.rule(format!(
                    ": {event} type events are invalid: {id} does not map to a valid devfile command"
                ))),
                Some(command) if !maps_to(command, expected, &by_id, 0) => {
                    findings.errors.push(path.rule(format!(
                        ": {event} type events are invalid: {id} should either map to an {expected} command or a composite command with {expected} commands"
                    )));
                }
                Some(_) => {}
            }
        }
    }
}

fn maps_to(command: &Value, kind: &str, by_id: &HashMap<String, &Value>, depth: usize) -> bool {
    if command.get(kind).is_some() {
        return true;
    }
    let Some(children) = command
        .pointer("/composite/commands")
        .and_then(Value::as_array)
    else {
        return false;
    };
    depth < 16
        && children.iter().filter_map(Value::as_str).all(|child| {
            by_id
                .get(&child.to_lowercase())
                .is_some_and(|c| maps_to(c, kind, by_id, depth + 1))
        })
}
