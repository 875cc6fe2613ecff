//! Parent flattening against devfile/api's own expected results (`pkg/utils/overriding/
//! test-fixtures`, copied under `tests/data/devfile-api/overriding`): every override case, and the
//! merge cases that involve no plugin (plugins are resolved by the DevWorkspace Operator, not here).

use std::path::{Path, PathBuf};

use fawkes_portal::workspaces::devfile::flatten;
use serde_json::{Value, json};

fn fixtures(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/devfile-api/overriding")
        .join(kind)
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

/// The lines of a `result-error.txt` (Go's multierror: `\t* <error>`).
fn expected_errors(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("* ").map(str::to_owned))
        .collect()
}

#[test]
fn every_override_case_gives_devfile_apis_result() {
    let mut cases = 0;
    for entry in std::fs::read_dir(fixtures("patches")).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let result = flatten::override_parent(
            &yaml(&dir.join("original.yaml")),
            &yaml(&dir.join("patch.yaml")),
        );
        if dir.join("result-error.txt").exists() {
            let message = result.expect_err(&name);
            for expected in expected_errors(&dir.join("result-error.txt")) {
                assert!(
                    message.contains(&expected),
                    "{name}: {message}\nmissing: {expected}"
                );
            }
        } else {
            assert_eq!(result.unwrap(), yaml(&dir.join("result.yaml")), "{name}");
        }
        cases += 1;
    }
    assert_eq!(cases, 10);
}

#[test]
fn an_element_both_define_is_refused_as_devfile_api_refuses_it() {
    let dir = fixtures("merges/duplicate-with-parent");
    let main = yaml(&dir.join("main.yaml"));
    let message =
        flatten::merge(&flatten::content(&main), &yaml(&dir.join("parent.yaml"))).unwrap_err();
    let expected = expected_errors(&dir.join("result-error.txt"));
    assert_eq!(expected.len(), 3);
    for line in expected {
        assert!(message.contains(&line), "{message}\nmissing: {line}");
    }
}

#[test]
fn the_parents_elements_come_first_and_events_are_joined() {
    let parent = json!({
        "variables": {"a": "parent"}, "attributes": {"p": true},
        "components": [{"name": "p1", "volume": {}}],
        "commands": [{"id": "build", "exec": {"component": "p1", "commandLine": "make"}}],
        "events": {"preStart": ["x", "y"], "postStop": ["z"]},
    });
    let main = json!({
        "variables": {"b": "main"}, "attributes": {"m": true},
        "components": [{"name": "m1", "volume": {}}],
        "events": {"preStart": ["y", "w"]},
    });
    assert_eq!(
        flatten::merge(&main, &parent).unwrap(),
        json!({
            "variables": {"a": "parent", "b": "main"}, "attributes": {"p": true, "m": true},
            "components": [{"name": "p1", "volume": {}}, {"name": "m1", "volume": {}}],
            "commands": [{"id": "build", "exec": {"component": "p1", "commandLine": "make"}}],
            "events": {"preStart": ["x", "y", "w"], "postStop": ["z"]},
        })
    );
}

/// devfile/api's `with-nodejs-parent` sample over its `nodejs-stack` sample: the sample's command
/// runs in the parent's `nodejs` component. Its project override names `example`, which this parent
/// does not have (the sample points at another copy of the stack), so as written it is refused with
/// devfile/api's words; overriding the parent's own `project`, it flattens.
#[test]
fn the_with_nodejs_parent_sample_flattens() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/devfile-api/samples");
    let mut main = yaml(&samples.join("with-nodejs-parent.devfile.yaml"));
    let parent = flatten::content(&yaml(&samples.join("nodejs-stack.devfile.yaml")));
    let refused = flatten::flatten(&main, &parent).unwrap_err();
    assert_eq!(
        refused,
        "Some Projects do not override any existing element: example. They should be defined in the main body, as new elements, not in the overriding section"
    );
    main["parent"]["projects"][0]["name"] = json!("project");
    let flat = flatten::flatten(&main, &parent).unwrap();
    assert!(flat.get("parent").is_none());
    assert_eq!(flat["metadata"]["name"], "with-parent");
    let ids: Vec<&str> = flat["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "download-dependencies",
            "run-the-app",
            "run-the-app-debugging-enabled",
            "stop-the-app",
            "sayhello"
        ]
    );
    assert_eq!(flat["components"][0]["name"], "nodejs");
    // Projects merge by name: the remote stays, the override adds the branch.
    assert_eq!(
        flat["projects"],
        json!([{"name": "project", "git": {
            "remotes": {"origin": "https://github.com/che-samples/web-nodejs-sample.git"},
            "checkoutFrom": {"revision": "mybranch"},
        }}])
    );
    // devfile/library's rules hold on the flat devfile (the command's component is the parent's).
    assert!(fawkes_portal::workspaces::devfile::validate(flat).is_ok());
}
