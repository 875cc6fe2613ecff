//! `file` locations outside `[catalog] file_roots`: the answer must not tell whether a file
//! exists there, for a registration and for a nested optional target alike.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::catalog::CatalogApp;

/// The error of registering `target`, with the target itself replaced by `<target>`.
async fn refusal(c: &CatalogApp, target: &str) -> (StatusCode, String) {
    let response = c
        .post(
            "/api/catalog/locations",
            json!({"type": "file", "target": target}),
        )
        .await;
    let error = response.json()["error"].as_str().unwrap().to_owned();
    (response.status, error.replace(target, "<target>"))
}

#[tokio::test]
async fn outside_the_roots_existing_and_missing_files_get_the_same_answer() {
    let c = CatalogApp::new().await;
    let outside = tempfile::TempDir::new().unwrap();
    let existing = outside.path().join("secret.yaml");
    std::fs::write(&existing, "x: 1\n").unwrap();
    let missing = outside.path().join("nothing-here.yaml");
    // A symbolic link inside a root that leads out: through it, nothing outside is told either.
    let link = c.root.join("out");
    std::os::unix::fs::symlink(outside.path(), &link).unwrap();
    let pairs = [
        (
            existing.display().to_string(),
            missing.display().to_string(),
        ),
        (
            link.join("secret.yaml").display().to_string(),
            link.join("nothing-here.yaml").display().to_string(),
        ),
        (
            format!("{}/../{}/secret.yaml", c.root.display(), dir_name(&outside)),
            format!(
                "{}/../{}/nothing-here.yaml",
                c.root.display(),
                dir_name(&outside)
            ),
        ),
    ];
    for (there, absent) in pairs {
        let there = refusal(&c, &there).await;
        assert_eq!(there.0, StatusCode::BAD_REQUEST);
        assert!(there.1.contains("outside the directories"), "{}", there.1);
        assert_eq!(refusal(&c, &absent).await, there, "{absent}");
    }
    // Inside the roots, a missing file is still reported as missing.
    let inside = refusal(&c, &c.root.join("none.yaml").display().to_string()).await;
    assert!(inside.1.contains("no matching files found"), "{}", inside.1);
}

#[tokio::test]
async fn a_nested_optional_target_outside_the_roots_is_refused_whether_or_not_it_exists() {
    let c = CatalogApp::new().await;
    let outside = tempfile::TempDir::new().unwrap();
    let existing = outside.path().join("secret.yaml");
    std::fs::write(&existing, "x: 1\n").unwrap();
    let missing = outside.path().join("nothing-here.yaml");
    let errors = |view: &Value| -> Vec<String> {
        view["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap().to_owned())
            .collect()
    };
    let mut answers = Vec::new();
    for (i, target) in [&existing, &missing].into_iter().enumerate() {
        let root = c.write(
            &format!("root-{i}.yaml"),
            format!(
                "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: probe-{i}\nspec:\n  type: file\n  presence: optional\n  target: {}\n",
                target.display()
            ),
        );
        let view = c.register(&root).await;
        let found = errors(&view);
        assert_eq!(found.len(), 1, "{view}");
        answers.push(
            found[0]
                .replace(&target.display().to_string(), "<target>")
                .replace(&root, "<root>"),
        );
    }
    assert!(
        answers[0].contains("outside the directories"),
        "{answers:?}"
    );
    assert_eq!(answers[0], answers[1]);
    // An optional target missing inside the roots is still skipped quietly.
    let root = c.write(
        "root-inside.yaml",
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: probe-inside\nspec:\n  type: file\n  presence: optional\n  target: {}/none.yaml\n",
            c.root.display()
        ),
    );
    let view = c.register(&root).await;
    assert_eq!(errors(&view), Vec::<String>::new(), "{view}");
}

fn dir_name(dir: &tempfile::TempDir) -> String {
    dir.path().file_name().unwrap().to_str().unwrap().to_owned()
}
