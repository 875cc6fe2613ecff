//! The Fawkes repository's own catalog files ingest as `file` locations. Their targets are GitHub
//! URLs, so the test rewrites them to the copy in `tests/data/fawkes`.

use serde_json::json;

use super::{CatalogApp, relations};
use crate::support::testdata;

const GITHUB: &str = "https://github.com/paruff/fawkes/blob/main/";

/// `file` copies of the location files, with GitHub URLs pointing at the local files.
fn rewrite(c: &CatalogApp, fawkes: &std::path::Path, name: &str, replace_services: bool) -> String {
    let text = std::fs::read_to_string(fawkes.join(name)).unwrap();
    let mut text = text.replace("type: url", "type: file");
    if replace_services {
        text = text.replace(
            &format!("{GITHUB}services/location.yaml"),
            &c.root.join("services-location.yaml").display().to_string(),
        );
    }
    let text = text.replace(GITHUB, &format!("{}/", fawkes.display()));
    c.write(&name.replace('/', "-"), text)
}

#[tokio::test]
async fn the_fawkes_catalog_ingests_with_its_relations() {
    let fawkes = std::fs::canonicalize(testdata().join("fawkes")).unwrap();
    let f = fawkes.display().to_string();
    let c = CatalogApp::with(move |s| s.catalog.file_roots.push(f)).await;
    rewrite(&c, &fawkes, "services/location.yaml", false);
    let root = rewrite(&c, &fawkes, "catalog-info.yaml", true);
    let view = c.register(&root).await;
    assert_eq!(view["status"], "ready", "{view}");

    let system = c.entity("system", "fawkes-platform").await;
    let rels = relations(&system);
    assert!(
        rels.contains(&"ownedBy -> group:default/platform-team".to_owned()),
        "{rels:?}"
    );
    assert!(
        rels.contains(&"partOf -> domain:default/platform-engineering".to_owned()),
        "{rels:?}"
    );
    assert!(
        rels.contains(&"hasPart -> component:default/backstage".to_owned()),
        "{rels:?}"
    );
    let team = relations(&c.entity("group", "platform-team").await);
    for owned in [
        "component:default/backstage",
        "api:default/backstage-api",
        "system:default/fawkes-platform",
        "component:default/dora-metrics",
    ] {
        assert!(
            team.contains(&format!("ownerOf -> {owned}")),
            "{owned} in {team:?}"
        );
    }
    let errors: Vec<&str> = view["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    let missing: Vec<&&str> = errors
        .iter()
        .filter(|e| e.contains("no matching files found"))
        .collect();
    assert_eq!(missing.len(), 3, "{errors:#?}");
    for name in ["cloud-provider", "data-quality", "rag"] {
        assert!(
            missing
                .iter()
                .any(|e| e.contains(&format!("services/{name}/catalog-info.yaml"))),
            "{name}: {errors:#?}"
        );
    }
}

#[tokio::test]
async fn services_location_yields_the_rest_plus_three_errors() {
    let fawkes = std::fs::canonicalize(testdata().join("fawkes")).unwrap();
    let f = fawkes.display().to_string();
    let c = CatalogApp::with(move |s| s.catalog.file_roots.push(f)).await;
    let root = rewrite(&c, &fawkes, "services/location.yaml", false);
    let view = c.register(&root).await;
    assert_eq!(view["errors"].as_array().unwrap().len(), 3, "{view}");
    let components = c.names("/api/catalog/entities?filter=kind=component").await;
    assert_eq!(components.len(), 20, "{components:?}");
    assert!(components.contains(&"dora-metrics".to_owned()));
    let apis = c.get("/api/catalog/entities?filter=kind=api").await.json();
    assert_eq!(apis.as_array().unwrap().len(), 1);
    assert_eq!(
        c.get("/api/catalog/entity-facets?facet=spec.owner")
            .await
            .json()["facets"]["spec.owner"],
        json!([{"value": "platform-team", "count": 21}])
    );
}
