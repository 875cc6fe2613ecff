//! Every error response is `{"error": "..."}` with the spec's status; request ids are echoed or made.

use axum::http::{Method, StatusCode};
use fawkes_portal::error::AppError;
use fawkes_portal::http::extract::{AppJson, AppQuery};
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::routes;

use crate::support::TestApp;

#[derive(Deserialize, utoipa::ToSchema)]
struct Widget {
    #[allow(dead_code)]
    name: String,
    #[allow(dead_code)]
    size: u32,
}

/// Test route: accepts a JSON widget.
#[utoipa::path(post, path = "/api/test/widgets", responses((status = 201)))]
async fn create_widget(AppJson(_widget): AppJson<Widget>) -> StatusCode {
    StatusCode::CREATED
}

#[derive(Deserialize)]
struct Paging {
    #[allow(dead_code)]
    limit: u32,
}

/// Test route: takes a query parameter.
#[utoipa::path(get, path = "/api/test/paged", responses((status = 200)))]
async fn paged(AppQuery(_paging): AppQuery<Paging>) -> StatusCode {
    StatusCode::OK
}

/// Test route: fails with an internal error whose cause must not reach the client.
#[utoipa::path(get, path = "/api/test/broken", responses((status = 500)))]
async fn broken() -> Result<(), AppError> {
    Err(anyhow::anyhow!("connection to 10.0.0.5 refused (password=hunter2)").into())
}

/// Test route: panics.
#[utoipa::path(get, path = "/api/test/panic", responses((status = 500)))]
async fn panics() -> StatusCode {
    panic!("boom")
}

/// Test route: never answers, so the configured request timeout must.
#[utoipa::path(get, path = "/api/test/slow", responses((status = 200)))]
async fn slow() -> StatusCode {
    std::future::pending::<()>().await;
    StatusCode::OK
}

async fn app() -> TestApp {
    let routes = fawkes_portal::app::routes::api_routes()
        .routes(routes!(create_widget))
        .routes(routes!(paged))
        .routes(routes!(broken))
        .routes(routes!(panics))
        .routes(routes!(slow));
    TestApp::build(
        |s| {
            s.server.max_body_bytes = 2048;
            s.server.request_timeout = "300ms".into();
        },
        routes,
    )
    .await
}

async fn post_widget(app: &TestApp, body: &str) -> crate::support::TestResponse {
    app.call(
        Method::POST,
        "/api/test/widgets",
        "application/json",
        body.to_owned(),
    )
    .await
}

#[tokio::test]
async fn unknown_route_is_404_naming_method_and_path() {
    let app = app().await;
    let response = app.get("/api/nope").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(
        response.json(),
        json!({"error": "Not found: GET /api/nope"})
    );
    assert!(
        response
            .header("content-type")
            .starts_with("application/json")
    );
}

#[tokio::test]
async fn wrong_method_is_405_with_allow_header() {
    let app = app().await;
    let response = app
        .call(Method::DELETE, "/healthz", "application/json", "")
        .await;
    assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        response.json(),
        json!({"error": "Method not allowed: DELETE /healthz"})
    );
    assert_eq!(response.header("allow"), "GET,HEAD");
}

#[tokio::test]
async fn valid_json_is_accepted() {
    let app = app().await;
    let response = post_widget(&app, r#"{"name": "w", "size": 3}"#).await;
    assert_eq!(response.status, StatusCode::CREATED);
}

#[tokio::test]
async fn malformed_json_is_400_with_line_and_column() {
    let app = app().await;
    let response = post_widget(&app, "{\n  \"name\": \"w\",\n  \"size\": }").await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let error = response.json()["error"].as_str().unwrap().to_owned();
    assert!(error.starts_with("Malformed JSON: "), "{error}");
    assert!(error.contains("line 3 column"), "{error}");
}

#[tokio::test]
async fn missing_field_is_400_naming_the_field() {
    let app = app().await;
    let response = post_widget(&app, r#"{"name": "w"}"#).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let error = response.json()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("missing field `size`"), "{error}");
    assert!(error.contains("line 1 column"), "{error}");
}

#[tokio::test]
async fn wrong_type_is_400_naming_the_field_and_type() {
    let app = app().await;
    let response = post_widget(&app, r#"{"name": "w", "size": "large"}"#).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let error = response.json()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("size"), "{error}");
    assert!(
        error.contains("invalid type: string \"large\", expected u32"),
        "{error}"
    );
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let app = app().await;
    let big = format!(r#"{{"name": "{}", "size": 1}}"#, "x".repeat(4096));
    let response = post_widget(&app, &big).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    let error = response.json()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("server.max_body_bytes"), "{error}");
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let app = app().await;
    let response = app
        .call(
            Method::POST,
            "/api/test/widgets",
            "text/plain",
            r#"{"name":"w","size":1}"#,
        )
        .await;
    assert_eq!(response.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let error = response.json()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("application/json"), "{error}");
}

#[tokio::test]
async fn bad_query_parameter_is_400_naming_it() {
    let app = app().await;
    let response = app.get("/api/test/paged?limit=many").await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let error = response.json()["error"].as_str().unwrap().to_owned();
    assert!(error.starts_with("Invalid query string: "), "{error}");
    assert!(error.contains("limit"), "{error}");
}

#[tokio::test]
async fn internal_error_is_500_with_request_id_and_no_internals() {
    let app = app().await;
    let response = app.get("/api/test/broken").await;
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    let id = response.header("x-request-id").to_owned();
    assert_eq!(
        response.json(),
        json!({"error": "Internal server error", "requestId": id})
    );
    assert!(!response.text().contains("hunter2"));
}

#[tokio::test]
async fn internal_error_cause_is_logged_once_with_the_request_id() {
    let logs = crate::support::logs::captured();
    let app = app().await;
    let id = uuid::Uuid::new_v4().to_string();
    let request = axum::http::Request::get("/api/test/broken")
        .header("x-request-id", &id)
        .body(axum::body::Body::empty());
    let response = app.send(request.unwrap()).await;
    assert_eq!(response.header("x-request-id"), id);
    let ours: Vec<String> = logs
        .lines()
        .into_iter()
        .filter(|l| l.contains(&id))
        .collect();
    let failures: Vec<&String> = ours
        .iter()
        .filter(|l| l.contains("request failed"))
        .collect();
    assert_eq!(failures.len(), 1, "{ours:?}");
    assert!(
        failures[0].contains("password=hunter2"),
        "the cause is in the log: {}",
        failures[0]
    );
    assert!(
        ours.iter()
            .any(|l| l.contains(" request ") && l.contains("status=500")),
        "{ours:?}"
    );
}

#[tokio::test]
async fn a_panicking_handler_is_500_and_the_server_keeps_serving() {
    let app = app().await;
    let response = app.get("/api/test/panic").await;
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.json()["error"], "Internal server error");
    assert_eq!(
        response.json()["requestId"],
        response.header("x-request-id")
    );
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_request_over_the_timeout_is_503() {
    let app = app().await;
    let response = app.get("/api/test/slow").await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    let error = response.json()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("server.request_timeout"), "{error}");
}

#[tokio::test]
async fn a_sane_request_id_is_echoed() {
    let app = app().await;
    let request = axum::http::Request::get("/healthz")
        .header("x-request-id", "trace-42.a:b_c")
        .body(axum::body::Body::empty());
    let response = app.send(request.unwrap()).await;
    assert_eq!(response.header("x-request-id"), "trace-42.a:b_c");
}

#[tokio::test]
async fn an_insane_request_id_is_replaced_and_a_missing_one_generated() {
    let app = app().await;
    for bad in ["has space", "<script>", &"x".repeat(129)] {
        let request = axum::http::Request::get("/api/nope")
            .header("x-request-id", bad)
            .body(axum::body::Body::empty());
        let response = app.send(request.unwrap()).await;
        let id = response.header("x-request-id");
        assert_ne!(id, bad);
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }
    let first = app.get("/healthz").await.header("x-request-id").to_owned();
    let second = app.get("/healthz").await.header("x-request-id").to_owned();
    assert!(uuid::Uuid::parse_str(&first).is_ok());
    assert_ne!(first, second);
}
