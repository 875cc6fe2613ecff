//! One user's catalog query must not cost the database without bound: filters and predicates past
//! their bounds are refused up front with a 400 naming the bound, and what is within them is
//! answered. (30,000 names in one `$in` held a SQLite read connection for up to 56 s, and over
//! 32,766 values the request was a 500.)

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::Backend;
use crate::support::{TestApp, TestResponse};

async fn app(backend: &Backend) -> TestApp {
    TestApp::build(
        backend.with(|s| s.rate_limit.user_per_minute = 10_000),
        fawkes_portal::app::routes::api_routes(),
    )
    .await
}

async fn post(app: &TestApp, path: &str, body: Value) -> TestResponse {
    app.call(Method::POST, path, "application/json", body.to_string())
        .await
}

fn assert_refused(response: &TestResponse, bound: &str) {
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.text()
    );
    let message = response.json()["error"].as_str().unwrap().to_owned();
    assert!(message.contains(bound), "{message} should name {bound}");
}

fn names(n: usize) -> Vec<Value> {
    (0..n).map(|i| json!(format!("service-{i}"))).collect()
}

async fn filters_and_predicates_past_their_bounds_are_refused(backend: Backend) {
    let app = app(&backend).await;
    let by_query = "/api/catalog/entities/by-query";
    // The reported attack: 30,000 names in one $in.
    let huge = post(
        &app,
        by_query,
        json!({"query": {"metadata.name": {"$in": names(30_000)}}}),
    )
    .await;
    assert_refused(&huge, "at most 1000 are allowed per key");
    // At the bound it is answered.
    let within = post(
        &app,
        by_query,
        json!({"query": {"metadata.name": {"$in": names(1000)}}}),
    )
    .await;
    assert_eq!(within.status, StatusCode::OK, "{}", within.text());
    assert_eq!(within.json()["totalItems"], 0);
    // Many values in total, spread over alternatives.
    let spread = json!({"query": {"$any": [
        {"metadata.name": {"$in": names(1000)}},
        {"spec.owner": {"$in": names(1000)}},
        {"spec.system": {"$in": names(1000)}},
    ]}});
    assert_refused(
        &post(&app, by_query, spread).await,
        "at most 2000 are allowed in one query",
    );
    // Deep nesting.
    let mut deep = json!({"kind": "component"});
    for _ in 0..20 {
        deep = json!({"$not": deep});
    }
    assert_refused(
        &post(&app, by_query, json!({"query": deep})).await,
        "more than 16 deep",
    );
    // Many keys in one object.
    let keys: serde_json::Map<String, Value> = (0..65)
        .map(|i| (format!("spec.k{i}"), json!("x")))
        .collect();
    assert_refused(
        &post(&app, by_query, json!({"query": Value::Object(keys)})).await,
        "at most 64 are allowed",
    );
    // Relation targets.
    let targets = json!({"query": {"relations": {"$contains": {"type": "ownedBy", "targetRef": {"$in": names(1001)}}}}});
    assert_refused(
        &post(&app, by_query, targets).await,
        "at most 1000 are allowed per key",
    );
    // The query-string grammar: the same key repeated, and the facets route.
    let repeated: String = (0..1001).map(|i| format!("metadata.name=s{i},")).collect();
    for path in [
        format!("/api/catalog/entities?filter={repeated}"),
        format!("/api/catalog/entities/by-query?filter={repeated}"),
        format!("/api/catalog/entity-facets?facet=kind&filter={repeated}"),
    ] {
        assert_refused(&app.get(&path).await, "at most 1000 are allowed per key");
    }
    let orders: String = (0..9).map(|i| format!("&order=asc:spec.k{i}")).collect();
    assert_refused(
        &app.get(&format!("/api/catalog/entities?limit=5{orders}"))
            .await,
        "at most 8 are allowed",
    );
    let fields: String = (0..101).map(|i| format!("spec.k{i},")).collect();
    assert_refused(
        &app.get(&format!("/api/catalog/entities?fields={fields}"))
            .await,
        "at most 100 are allowed",
    );
    let refs: Vec<String> = (0..10_001)
        .map(|i| format!("component:default/s{i}"))
        .collect();
    assert_refused(
        &post(
            &app,
            "/api/catalog/entities/by-refs",
            json!({"entityRefs": refs}),
        )
        .await,
        "at most 10000 are allowed",
    );
}

crate::on_both_databases!(filters_and_predicates_past_their_bounds_are_refused);
