//! The catalog pages in process: registering through the form (preview, errors inline, CSRF,
//! import), the index (kind tabs, filters, search, columns by kind, pages through cursors), the
//! entity page (About, processing errors, relations as graph and list, YAML, the DORA tab, Open
//! in Che) and the locations list.

use std::time::Duration;

use axum::http::StatusCode;

use super::Browser;
use crate::support::{TestApp, wait_until};

struct Catalog {
    app: TestApp,
    file: String,
    _dir: tempfile::TempDir,
}

async fn catalog() -> Catalog {
    let dir = tempfile::TempDir::new().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let file = root.join("catalog-info.yaml");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/ui/catalog-info.yaml"
        ),
        &file,
    )
    .unwrap();
    let roots = vec![root.display().to_string()];
    let app = TestApp::build(
        move |s| {
            s.catalog.file_roots = roots;
            s.rate_limit.user_per_minute = 100_000;
        },
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    Catalog {
        app,
        file: file.display().to_string(),
        _dir: dir,
    }
}

/// Registers `catalog.file` through the form and waits until its entities are served.
async fn register(catalog: &Catalog, browser: &Browser<'_>) {
    let token = browser.csrf().await;
    let imported = browser
        .post(
            "/catalog/register",
            &[
                ("_csrf", &token),
                ("type", "file"),
                ("target", &catalog.file),
                ("action", "import"),
            ],
        )
        .await;
    assert_eq!(
        imported.status,
        StatusCode::SEE_OTHER,
        "{}",
        imported.text()
    );
    assert!(
        imported
            .header("location")
            .starts_with("/catalog/locations?registered=")
    );
    let served = async || {
        browser
            .get("/catalog")
            .await
            .text()
            .contains("payments-api")
    };
    wait_until(served, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn registering_previews_shows_errors_inline_and_imports() {
    let catalog = catalog().await;
    let browser = Browser::signed_in_as(&catalog.app, "user:default/alice").await;
    let page = browser.get("/catalog/register").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains("github.com"),
        "allowed hosts are listed"
    );
    let token = super::csrf(&page.text());
    let refused = browser
        .post(
            "/catalog/register",
            &[("type", "file"), ("target", &catalog.file)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let missing = browser
        .post(
            "/catalog/register",
            &[
                ("_csrf", &token),
                ("type", "file"),
                ("target", "/nowhere/x.yaml"),
            ],
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing
            .text()
            .contains("The location cannot be registered.")
    );
    assert!(missing.text().contains("aria-invalid=\"true\""));
    let bad_type = browser
        .post(
            "/catalog/register",
            &[("_csrf", &token), ("type", "git"), ("target", "x")],
        )
        .await;
    assert!(
        bad_type
            .text()
            .contains("Invalid location type &#39;git&#39;"),
        "{}",
        bad_type.text()
    );
    let preview = browser
        .post(
            "/catalog/register",
            &[
                ("_csrf", &token),
                ("type", "file"),
                ("target", &catalog.file),
                ("action", "analyze"),
            ],
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    let text = preview.text();
    for name in [
        "payments-api",
        "web-frontend",
        "platform-team",
        "payments-db",
        "alice",
    ] {
        assert!(text.contains(&format!("<td>{name}</td>")), "{name}: {text}");
    }
    assert!(text.contains("value=\"import\""));
    // A dry run registers nothing.
    assert!(
        !browser
            .get("/catalog/locations")
            .await
            .text()
            .contains(&catalog.file)
    );
    register(&catalog, &browser).await;
    let locations = browser.get("/catalog/locations").await.text();
    assert!(locations.contains(&format!("file:{}", catalog.file)));
    // Registered already: the preview says so and offers no import.
    let again = browser
        .post(
            "/catalog/register",
            &[
                ("_csrf", &token),
                ("type", "file"),
                ("target", &catalog.file),
                ("action", "analyze"),
            ],
        )
        .await
        .text();
    assert!(again.contains("registered already"));
    assert!(!again.contains("value=\"import\""));
}

#[tokio::test]
async fn the_index_filters_searches_and_pages() {
    let catalog = catalog().await;
    let browser = Browser::signed_in_as(&catalog.app, "user:default/alice").await;
    register(&catalog, &browser).await;
    let index = browser.get("/catalog").await.text();
    for expected in [
        "2 components",
        "Component <span class=\"muted\">(2)</span>",
        "<th scope=\"col\">Lifecycle</th>",
        "Charges cards and refunds them",
        "href=\"/catalog/default/component/payments-api\"",
        "<option value=\"production\">production (1)</option>",
    ] {
        assert!(index.contains(expected), "{expected}: {index}");
    }
    let users = browser.get("/catalog?kind=user").await.text();
    assert!(users.contains("<th scope=\"col\">Email</th>") && users.contains("alice@example.com"));
    let filtered = browser
        .get("/catalog?kind=component&lifecycle=experimental")
        .await
        .text();
    assert!(filtered.contains("1 component") && filtered.contains("web-frontend"));
    assert!(!filtered.contains("payments-api</a>"));
    let htmx = Browser::signed_in_as(&catalog.app, "user:default/alice")
        .await
        .with_header("hx-request", "true");
    let found = htmx.get("/catalog?kind=all&q=PAYMENTS").await.text();
    assert!(
        found.starts_with("<section id=\"catalog-results\""),
        "{found}"
    );
    assert!(found.contains("4 entities"), "{found}");
    // Pages of 20 through cursors: 9 entities fit one page; a page links back and forth when
    // there are more (the cursor carries the filters).
    let all = browser.get("/catalog?kind=all").await.text();
    assert!(all.contains("9 entities") && !all.contains("rel=\"next\""));
}

/// Home lists the entities changed last, linked to their pages, without the Location entities
/// that only record where the others came from.
#[tokio::test]
async fn home_lists_recently_changed_entities() {
    let catalog = catalog().await;
    let browser = Browser::signed_in_as(&catalog.app, "user:default/alice").await;
    let empty = browser.get("/").await.text();
    assert!(empty.contains("The catalog is empty"), "{empty}");
    register(&catalog, &browser).await;
    let home = browser.get("/").await.text();
    assert!(home.contains("Recently changed entities"), "{home}");
    for expected in [
        "href=\"/catalog/default/component/payments-api\"",
        "href=\"/catalog/default/user/alice\"",
    ] {
        assert!(home.contains(expected), "{expected}: {home}");
    }
    assert!(!home.contains("/catalog/default/location/"), "{home}");
}

#[tokio::test]
async fn the_entity_page_shows_about_relations_yaml_dora_and_open_in_che() {
    let catalog = catalog().await;
    let browser = Browser::signed_in_as(&catalog.app, "user:default/alice").await;
    register(&catalog, &browser).await;
    let page = browser.get("/catalog/default/component/payments-api").await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    for expected in [
        "<h1>Payments API service</h1>",
        "Charges cards and refunds them",
        "href=\"/catalog/default/group/platform-team\"",
        "href=\"/catalog/default/system/payments\"",
        "href=\"https://runbooks.example.com/payments\"",
        "DevLake project: <strong>payments-api</strong>",
        "Open in Che",
        // eclipse.org/che-devfile names the default golden path.
        "value=\"https://raw.githubusercontent.com/paruff/fawkes/main/platform/devfiles/goldenpath-python.yaml\"",
        "DORA Metrics",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    let relations = browser
        .get("/catalog/default/component/payments-api?tab=relations")
        .await
        .text();
    assert!(relations.contains("<svg viewBox=\"0 0 900"));
    assert!(relations.contains("href=\"/catalog/default/api/payments\" class=\"node\""));
    assert!(relations.contains("providesApi: <a href=\"/catalog/default/api/payments\">"));
    let yaml = browser
        .get("/catalog/default/component/payments-api?tab=yaml")
        .await
        .text();
    assert!(
        yaml.contains("kind: Component") && yaml.contains("lifecycle: production"),
        "{yaml}"
    );
    let dora = browser
        .get("/catalog/default/component/payments-api?tab=dora")
        .await
        .text();
    assert!(
        dora.contains("DORA Performance") && dora.contains("Project <strong>payments-api</strong>")
    );
    assert_eq!(dora.matches("data-metric=").count(), 4);
    // A Group has no DORA tab and no Che button; an unknown entity is the API's 404.
    let group = browser
        .get("/catalog/default/group/platform-team")
        .await
        .text();
    assert!(!group.contains("DORA Metrics") && !group.contains("Open in Che"));
    let missing = browser.get("/catalog/default/component/ghost").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing
            .text()
            .contains("No entity named &#39;ghost&#39; found")
    );
}

#[tokio::test]
async fn processing_errors_of_the_location_show_on_the_entity_page() {
    let catalog = catalog().await;
    let browser = Browser::signed_in_as(&catalog.app, "user:default/alice").await;
    register(&catalog, &browser).await;
    // The file gains an invalid entity; the next refresh reports it on the location.
    let mut text = std::fs::read_to_string(&catalog.file).unwrap();
    text.push_str("---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: Bad Name}\nspec: {type: service, lifecycle: x, owner: y}\n");
    std::fs::write(&catalog.file, text).unwrap();
    let state = catalog.app.app.state();
    let location = state.catalog.locations().await.unwrap().remove(0);
    state.catalog.process_location(&location.id, None).await;
    let page = browser
        .get("/catalog/default/component/payments-api")
        .await
        .text();
    assert!(
        page.contains("reported errors at its last processing"),
        "{page}"
    );
    assert!(page.contains("Bad Name"));
    let locations = browser.get("/catalog/locations").await.text();
    assert!(locations.contains("Bad Name"));
}

#[tokio::test]
async fn pages_go_forward_and_back_through_cursors() {
    let catalog = catalog().await;
    let mut text = String::new();
    for i in 0..45 {
        text.push_str(&format!(
            "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {{name: svc-{i:02}}}\nspec: {{type: service, lifecycle: production, owner: team-b}}\n"
        ));
    }
    std::fs::write(&catalog.file, text).unwrap();
    let browser = Browser::signed_in_as(&catalog.app, "user:default/alice").await;
    let token = browser.csrf().await;
    let imported = browser
        .post(
            "/catalog/register",
            &[
                ("_csrf", &token),
                ("type", "file"),
                ("target", &catalog.file),
                ("action", "import"),
            ],
        )
        .await;
    assert_eq!(imported.status, StatusCode::SEE_OTHER);
    let all = async || {
        browser
            .get("/catalog")
            .await
            .text()
            .contains("45 components")
    };
    wait_until(all, Duration::from_secs(5)).await;
    let link = |html: &str, rel: &str| -> Option<String> {
        let marker = format!("\" rel=\"{rel}\"");
        let end = html.find(&marker)?;
        let start = html[..end].rfind("href=\"")? + 6;
        Some(html[start..end].replace("&#38;", "&"))
    };
    let first = browser.get("/catalog?owner=team-b").await.text();
    assert!(
        first.contains("45 components") && first.contains(">svc-00<") && first.contains(">svc-19<")
    );
    assert!(!first.contains(">svc-20<") && link(&first, "prev").is_none());
    let second = browser.get(&link(&first, "next").unwrap()).await.text();
    assert!(
        second.contains(">svc-20<") && second.contains(">svc-39<") && !second.contains(">svc-19<")
    );
    assert!(
        second.contains("value=\"team-b\" selected"),
        "the filters stay selected"
    );
    let third = browser.get(&link(&second, "next").unwrap()).await.text();
    assert!(third.contains(">svc-44<") && link(&third, "next").is_none());
    let back = browser.get(&link(&third, "prev").unwrap()).await.text();
    assert!(back.contains(">svc-20<") && back.contains(">svc-39<"));
}
