//! The DORA dashboard and the home page's team summary show the API's numbers: the four cards
//! equal `GET /api/devlake/dora-metrics` for the same scope and window, the charts draw the
//! weekly and monthly series with a table each, and the history filters by environment.

use axum::http::StatusCode;
use fawkes_portal::catalog::model::{LocationSpec, LocationType};
use fawkes_portal::catalog::store::NewLocation;
use serde_json::{Value, json};

use super::Browser;
use crate::dora::{DoraApp, app_at, deployment, incident};

/// A catalog where alice is in team-a, which owns the component `svc`: the file of the app's one
/// location, processed now as the refresh loop would.
async fn catalog(app: &DoraApp) {
    let entities = [
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
            "metadata": {"name": "team-a", "namespace": "default"},
            "spec": {"type": "team", "children": [], "members": ["alice"]}}),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "User",
            "metadata": {"name": "alice", "namespace": "default"}, "spec": {"memberOf": ["team-a"]}}),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": "svc", "namespace": "default"},
            "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"}}),
    ];
    let state = app.app.app.state();
    let documents: Vec<String> = entities.iter().map(Value::to_string).collect();
    let path = app.catalog_root().join("all.yaml");
    std::fs::write(&path, documents.join("\n---\n")).unwrap();
    let store = fawkes_portal::catalog::store::open(&state.db);
    let location = NewLocation {
        id: "loc".into(),
        spec: LocationSpec {
            kind: LocationType::File,
            target: path.display().to_string(),
        },
        now: 0,
    };
    assert!(store.create_location(&location).await.unwrap());
    state.catalog.process_location("loc", None).await;
    let location = state.catalog.location("loc").await.unwrap();
    assert!(location.errors.is_empty(), "{:?}", location.errors);
}

/// June 2024: ten production deployments of `svc` (one a day from the 3rd), two with an
/// incident (one restored), a staging deployment, and commits authored before each.
async fn feed(app: &DoraApp) {
    for day in 3..13 {
        let finished = format!("2024-06-{day:02}T10:00:00Z");
        let mut body = deployment(&format!("d{day}"), &finished);
        body["result"] = "SUCCESS".into();
        body["environment"] = "PRODUCTION".into();
        body["deploymentCommits"][0]["commitAuthoredDate"] =
            format!("2024-06-{day:02}T0{}:00:00Z", day % 8).into();
        app.hook("svc", "deployments", body).await;
    }
    let mut staging = deployment("s1", "2024-06-20T10:00:00Z");
    staging["environment"] = "STAGING".into();
    staging["result"] = "SUCCESS".into();
    app.hook("svc", "deployments", staging).await;
    app.hook(
        "svc",
        "incidents",
        incident(
            "INC-1",
            "2024-06-04T11:00:00Z",
            Some("2024-06-04T13:30:00Z"),
        ),
    )
    .await;
    app.hook(
        "svc",
        "incidents",
        incident("INC-2", "2024-06-08T12:00:00Z", None),
    )
    .await;
}

/// `data-metric` -> `data-value` of the page's cards.
fn card_values(html: &str) -> Vec<(String, Option<f64>)> {
    html.split("data-metric=\"")
        .skip(1)
        .map(|piece| {
            let key = piece.split('"').next().unwrap().to_owned();
            let value = piece
                .split("data-value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            (key, value.parse::<f64>().ok())
        })
        .collect()
}

fn api_values(metrics: &Value) -> Vec<(String, Option<f64>)> {
    [
        "deploymentFrequency",
        "leadTimeForChanges",
        "changeFailureRate",
        "timeToRestoreService",
    ]
    .iter()
    .map(|k| ((*k).to_owned(), metrics["metrics"][k]["value"].as_f64()))
    .collect()
}

#[tokio::test]
async fn the_dashboard_shows_the_apis_numbers_with_charts_and_history() {
    let app = app_at("2024-07-01T12:00:00Z", &[]).await;
    catalog(&app).await;
    feed(&app).await;
    let browser = Browser::signed_in_as(&app.app, "user:default/alice").await;
    for (query, api) in [
        ("scope=project%3Asvc", "project=svc"),
        (
            "scope=team%3Ateam-a&period=7",
            "team=team-a&startDate=2024-06-25&endDate=2024-07-01",
        ),
        (
            "scope=project%3Asvc&period=custom&start=2024-06-01&end=2024-06-30&benchmark=2021",
            "project=svc&startDate=2024-06-01&endDate=2024-06-30&benchmark=2021",
        ),
        ("period=90", "startDate=2024-04-03&endDate=2024-07-01"),
    ] {
        let page = browser.get(&format!("/dora?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{query}");
        let shown = card_values(&page.text());
        let expected = api_values(&app.metrics(api).await);
        assert_eq!(shown, expected, "{query}");
    }
    let page = browser
        .get("/dora?scope=project%3Asvc&period=custom&start=2024-06-01&end=2024-06-30")
        .await
        .text();
    let cards = card_values(&page);
    assert_eq!(cards[0].1, Some(2.33), "10 deployments in 30 days");
    assert_eq!(cards[2].1, Some(20.0), "2 of 10 failed");
    for expected in [
        "Project svc",
        "2024-06-01 to 2024-06-30",
        "Deployments per week",
        "Median lead time for changes per week",
        "Change failure rate per month",
        "Failed deployment recovery time per incident",
        "10 deployments on 10 of 30 days",
        "2 of 10 deployments caused an incident",
        "<svg viewBox=",
        "as a table",
    ] {
        assert!(page.contains(expected), "{expected}");
    }
    assert_eq!(page.matches("<figure").count(), 4);
    // A week's bar has its value as a tooltip and in the table.
    assert!(
        page.contains("Week of 2024-06-03 to 2024-06-09: 7 deployments"),
        "{page}"
    );
    // The team picker lists the catalog's team; the history shows the project's deployments.
    assert!(page.contains("value=\"team:team-a\""));
    assert!(page.contains("11 of 11 deployments") || page.contains("of 11 deployments"));
    let htmx = Browser::signed_in_as(&app.app, "user:default/alice")
        .await
        .with_header("hx-request", "true");
    let staging = htmx
        .get("/dora/history?scope=project%3Asvc&history=svc&environment=staging")
        .await
        .text();
    assert!(staging.starts_with("<section id=\"deployment-history\""));
    assert!(staging.contains("1 of 1 deployments"), "{staging}");
    assert!(staging.contains("data-environment=\"staging\""));
    assert!(!staging.contains("data-environment=\"prod\""));
    // Without htmx the fragment's URL is the whole dashboard.
    let plain = browser
        .get("/dora/history?history=svc&environment=prod")
        .await;
    assert_eq!(plain.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn no_data_is_na_never_zero_and_errors_read_as_the_apis() {
    let app = app_at("2024-07-01T12:00:00Z", &[("quiet", &["idle"])]).await;
    let browser = Browser::signed_in_as(&app.app, "user:default/alice").await;
    let page = browser.get("/dora?scope=team%3Aquiet").await.text();
    assert!(
        card_values(&page).iter().all(|(_, v)| v.is_none()),
        "{page}"
    );
    assert!(page.contains("N/A"));
    assert!(page.contains("No data yet"));
    let unknown = browser.get("/dora?scope=project%3Aghost").await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert!(
        unknown.text().contains("Unknown project &#39;ghost&#39;"),
        "{}",
        unknown.text()
    );
    let bad = browser
        .get("/dora?period=custom&start=2024-06-02&end=2024-06-01")
        .await
        .text();
    assert!(
        bad.contains("startDate 2024-06-02 is after endDate 2024-06-01"),
        "{bad}"
    );
}

#[tokio::test]
async fn home_summarises_my_teams_with_the_same_numbers() {
    let app = app_at("2024-07-01T12:00:00Z", &[]).await;
    catalog(&app).await;
    feed(&app).await;
    let alice = Browser::signed_in_as(&app.app, "user:default/alice").await;
    let home = alice.get("/").await.text();
    assert!(home.contains(">team-a</a>"), "{home}");
    let api = app.metrics("team=team-a").await;
    let frequency = api["metrics"]["deploymentFrequency"]["value"]
        .as_f64()
        .unwrap();
    assert!(
        home.contains(&format!("{frequency} deploys/week")),
        "{home}"
    );
    assert!(home.contains("Locations refreshed last"));
    assert!(home.contains("all.yaml"));
    let bob = Browser::signed_in_as(&app.app, "user:default/bob").await;
    let home = bob.get("/").await.text();
    assert!(home.contains("You belong to no team"), "{home}");
}
