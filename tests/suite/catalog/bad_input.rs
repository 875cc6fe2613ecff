//! Bad input is a 400 naming the problem (or an error on the location), never a hang or a crash.

use axum::http::StatusCode;
use serde_json::json;

use super::{CatalogApp, component};

async fn refused(c: &CatalogApp, name: &str, content: Vec<u8>) -> String {
    let path = c.write(name, content);
    let started = std::time::Instant::now();
    let response = c
        .post(
            "/api/catalog/locations",
            json!({"type": "file", "target": path}),
        )
        .await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{name} took {:?}",
        started.elapsed()
    );
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{name}: {}",
        response.text()
    );
    response.json()["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn each_kind_of_bad_file_is_refused_with_a_reason() {
    let c = CatalogApp::new().await;
    let malformed = refused(
        &c,
        "malformed.yaml",
        b"kind: [Component\nmetadata: {".to_vec(),
    )
    .await;
    assert!(
        malformed.starts_with("Invalid malformed.yaml: YAML error"),
        "{malformed}"
    );
    let scalar = refused(&c, "scalar.yaml", b"just a string\n".to_vec()).await;
    assert_eq!(
        scalar,
        "Invalid scalar.yaml: expected a mapping at the document root, got string"
    );
    let list = refused(&c, "list.yaml", b"- a\n- b\n".to_vec()).await;
    assert!(list.contains("got array"), "{list}");
    let huge = refused(&c, "huge.yaml", vec![b'#'; 50 * 1024 * 1024]).await;
    assert!(huge.contains("at most 5242880 bytes"), "{huge}");
    let many = refused(
        &c,
        "many.yaml",
        (0..10_000)
            .map(|i| component(&format!("c{i}"), "t"))
            .collect::<Vec<_>>()
            .join("---\n")
            .into_bytes(),
    )
    .await;
    assert!(many.starts_with("Invalid many.yaml: YAML error"), "{many}");
    let deep = refused(
        &c,
        "deep.yaml",
        format!("a: {}1{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
    )
    .await;
    assert!(deep.contains("YAML error"), "{deep}");
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 0..9 {
        let prev = if i == 0 {
            "a".to_owned()
        } else {
            format!("l{}", i - 1)
        };
        let refs = vec![format!("*{prev}"); 9].join(",");
        bomb.push_str(&format!("l{i}: &l{i} [{refs}]\n"));
    }
    let bomb = refused(&c, "bomb.yaml", bomb.into_bytes()).await;
    assert!(bomb.contains("YAML error"), "{bomb}");
    let utf8 = refused(&c, "latin1.yaml", b"kind: Caf\xe9\n".to_vec()).await;
    assert!(utf8.contains("not valid UTF-8"), "{utf8}");
    assert_eq!(c.get("/api/catalog/locations").await.json(), json!([]));
}

#[tokio::test]
async fn bad_nested_files_are_errors_on_the_location_and_good_documents_still_ingest() {
    let c = CatalogApp::new().await;
    c.write("bad.yaml", b"\xff\xfe");
    c.write(
        "half.yaml",
        format!("{}---\nkind: Component\n", component("good", "t")),
    );
    let root = c.write("root.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: r\nspec:\n  targets: [./bad.yaml, ./half.yaml]\n");
    let view = c.register(&root).await;
    assert_eq!(view["status"], "ready");
    let errors: Vec<&str> = view["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(errors.len(), 2, "{view}");
    assert!(
        errors[0].contains("bad.yaml") && errors[0].contains("UTF-8"),
        "{errors:?}"
    );
    assert!(
        errors[1].contains("Invalid half.yaml (document 2): missing required field 'apiVersion'"),
        "{errors:?}"
    );
    c.entity("component", "good").await;
}

#[tokio::test]
async fn malformed_request_bodies_are_400() {
    let c = CatalogApp::new().await;
    let response = c
        .app
        .call(
            axum::http::Method::POST,
            "/api/catalog/locations",
            "application/json",
            "{not json",
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let response = c
        .post("/api/catalog/entities/by-refs", json!({"refs": []}))
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
}
