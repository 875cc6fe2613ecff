//! The dependency rule, checked on the source: modules form layers, and no module imports one
//! above it.
//!
//! - **composition** ([`COMPOSITION`]): `app` wires every feature; `cli` runs the app.
//! - **presentation** ([`PRESENTATION`]): the web UI, pages over the features' public services;
//!   it may import features and shared modules, and nothing but `app` imports it.
//! - **features** ([`FEATURES`]): each owns its router, state, service and store, and imports no
//!   other feature (what one needs of another is a trait of its own that `app` implements).
//! - **shared**: every other top-level module (database handle, settings, errors, HTTP
//!   extractors, ...); they import neither features nor the composition root.
//!
//! Within the shared layer the imports must still form no circle, so all top-level modules
//! together have a topological order; the test prints it when it fails.
//!
//! An import is any `crate::<module>` path in code (comments are skipped), including grouped
//! `crate::{a, b}` imports, `$crate::` in macros and `super::` paths that climb to the crate root.

#![allow(
    clippy::unwrap_used,
    reason = "a test: a failed unwrap is a failed test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules that may import anything.
const COMPOSITION: &[&str] = &["app", "cli"];
/// Modules that may import features and shared modules (the UI renders what the features rule).
const PRESENTATION: &[&str] = &["ui"];
/// Modules that may import shared modules only.
const FEATURES: &[&str] = &["auth", "catalog", "dora", "workspaces"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a source file: `src/catalog/store/sql.rs` is `["catalog", "store", "sql"]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut path: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if path.last().is_some_and(|l| l == "mod") {
        path.pop();
    }
    if path == ["lib"] || path == ["main"] {
        path.clear();
    }
    path
}

/// `text` without `//` comments (line and doc comments) and without string literals' contents,
/// so a path mentioned in prose or in a message is not an import.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_string = false;
        let mut escaped = false;
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if in_string {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                    out.push('"');
                }
                i += 1;
                continue;
            }
            if c == '/' && chars.get(i + 1) == Some(&'/') {
                break;
            }
            if c == '"' {
                in_string = true;
            }
            out.push(c);
            i += 1;
        }
        out.push('\n');
    }
    out
}

fn identifier_at(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The top-level modules `code` (of the module at `path`) refers to, besides its own.
fn imports(code: &str, path: &[String]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a, b::c}`: the first segment of each item (nested braces are rare and
            // only ever below the first segment).
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name = identifier_at(item.trim());
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        } else {
            let name = identifier_at(rest);
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    // `super::super::x` from deep enough reaches the crate root and names module `x`.
    let mut rest = code;
    while let Some(at) = rest.find("super::") {
        let preceded_by_path = at >= 2 && &rest[at - 2..at] == "::";
        let mut tail = &rest[at..];
        let mut climbs = 0;
        while let Some(t) = tail.strip_prefix("super::") {
            climbs += 1;
            tail = t;
        }
        if !preceded_by_path && climbs >= path.len() {
            let name = identifier_at(tail);
            if !name.is_empty() {
                found.insert(name);
            }
        }
        rest = &rest[at + "super::".len() * climbs..];
    }
    if let Some(own) = path.first() {
        found.remove(own);
    }
    found
}

/// Top-level module -> the top-level modules it imports, and which files import each.
fn graph() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let top_level: BTreeSet<String> = files
        .iter()
        .filter_map(|f| module_path(&src, f).first().cloned())
        .collect();
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in &files {
        let path = module_path(&src, file);
        let Some(module) = path.first().cloned() else {
            continue;
        };
        let code = code_only(&std::fs::read_to_string(file).unwrap());
        let entry = graph.entry(module).or_default();
        for import in imports(&code, &path) {
            // Macros exported with `#[macro_export]` are named at the crate root too.
            let import = if top_level.contains(&import) {
                import
            } else {
                format!("{import} (not a module)")
            };
            let shown = file.strip_prefix(&src).unwrap().display().to_string();
            entry.entry(import).or_default().insert(shown);
        }
    }
    graph
}

fn layer(module: &str) -> &'static str {
    if COMPOSITION.contains(&module) {
        "composition"
    } else if PRESENTATION.contains(&module) {
        "presentation"
    } else if FEATURES.contains(&module) {
        "feature"
    } else {
        "shared"
    }
}

#[test]
fn every_import_points_down_a_layer_or_sideways_within_shared() {
    let mut wrong = Vec::new();
    for (module, imports) in graph() {
        for (import, files) in imports {
            let allowed = match (layer(&module), layer(&import)) {
                _ if import.ends_with("(not a module)") => false,
                ("composition", _) => !(module == "app" && import == "cli"),
                ("presentation", "feature" | "shared")
                | ("feature", "shared")
                | ("shared", "shared") => true,
                _ => false,
            };
            if !allowed {
                wrong.push(format!(
                    "{module} ({}) imports {import} ({}) in {files:?}",
                    layer(&module),
                    layer(&import)
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that break the layering:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn top_level_modules_import_each_other_without_a_circle() {
    let graph = graph();
    let mut remaining: BTreeMap<String, BTreeSet<String>> = graph
        .iter()
        .map(|(m, imports)| {
            let imports = imports.keys().filter(|i| graph.contains_key(*i)).cloned();
            (m.clone(), imports.collect())
        })
        .collect();
    let mut order = Vec::new();
    while !remaining.is_empty() {
        let ready: Vec<String> = remaining
            .iter()
            .filter(|(_, imports)| imports.iter().all(|i| !remaining.contains_key(i)))
            .map(|(m, _)| m.clone())
            .collect();
        assert!(
            !ready.is_empty(),
            "an import circle among {remaining:?}; order so far (lowest first): {order:?}"
        );
        for m in ready {
            remaining.remove(&m);
            order.push(m);
        }
    }
    println!("lowest first: {order:?}");
}

/// Handlers parse, call their feature's service and render: no file of a feature's `http` module
/// names a store.
#[test]
fn no_handler_touches_a_store() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut touching = Vec::new();
    for file in files {
        let path = module_path(&src, &file);
        let in_feature = path.first().is_some_and(|m| FEATURES.contains(&m.as_str()));
        if !in_feature || !path.iter().any(|p| p == "http") {
            continue;
        }
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        if code.contains("store::") || code.contains(".store") {
            touching.push(file.strip_prefix(&src).unwrap().display().to_string());
        }
    }
    assert!(
        touching.is_empty(),
        "handlers that reach a store: {touching:?}"
    );
}

#[test]
fn the_checker_sees_imports_in_every_form() {
    let path = ["catalog".to_owned(), "http".to_owned()];
    let code = code_only(
        "use crate::{db::StoreError, error};\n\
         let x = crate::fetch::Fetcher::new(); // crate::app::AppState\n\
         let m = \"crate::cli in a message\";\n\
         use super::super::dora::x;\n\
         use super::service::Catalog;\n\
         $crate::telemetry::init();",
    );
    let found: Vec<String> = imports(&code, &path).into_iter().collect();
    assert_eq!(found, ["db", "dora", "error", "fetch", "telemetry"]);
}
