//! Ingestion: every webhook body, its missing-field and bad-type cases, re-posts, and who may post.

use serde_json::{Value, json};

use super::{app, app_at, deployment, incident};

/// Sets `value` at a path of keys and array indices (a `null` value removes the key).
fn with(mut body: Value, path: &[&str], value: Option<Value>) -> Value {
    let mut target = &mut body;
    for key in &path[..path.len() - 1] {
        target = match key.parse::<usize>() {
            Ok(i) => &mut target[i],
            Err(_) => &mut target[*key],
        };
    }
    let last = path[path.len() - 1];
    match value {
        Some(value) => target[last] = value,
        None => {
            target.as_object_mut().unwrap().remove(last);
        }
    }
    body
}

/// Posts each broken body and expects a 400 whose message contains the given text.
async fn expect_400s(kind: &str, base: Value, cases: Vec<(&[&str], Option<Value>, &str)>) {
    let app = app().await;
    let path = format!("/api/devlake/webhooks/svc/{kind}");
    for (field, value, expected) in cases {
        let body = with(base.clone(), field, value.clone());
        let response = app.post_as(&app.service, &path, &body.to_string()).await;
        assert_eq!(
            response.status,
            400,
            "{kind} {field:?}={value:?}: {}",
            response.text()
        );
        let message = response.json()["error"].as_str().unwrap().to_owned();
        assert!(
            message.contains(expected),
            "{kind} {field:?}={value:?}: {message}"
        );
    }
    // Nothing was stored by any of them.
    let history = app.get("/api/devlake/deployment-history?service=svc").await;
    assert_eq!(history.status, 404, "{}", history.text());
}

#[tokio::test]
async fn deployment_bodies_with_missing_or_malformed_fields_are_400_naming_the_field() {
    let base = deployment("d1", "2024-06-10T10:00:00Z");
    let cases: Vec<(&[&str], Option<Value>, &str)> = vec![
        (&["id"], None, "missing field `id`"),
        (&["id"], Some(json!({"a": 1})), "id: invalid type: map"),
        (&["id"], Some(json!("")), "id: must not be empty"),
        (&["startedDate"], None, "missing field `startedDate`"),
        (&["finishedDate"], None, "missing field `finishedDate`"),
        (
            &["finishedDate"],
            Some(json!(1717999999)),
            "finishedDate: invalid type: integer",
        ),
        (
            &["finishedDate"],
            Some(json!("tomorrow")),
            "finishedDate: 'tomorrow' is not a time DevLake accepts",
        ),
        (
            &["createdDate"],
            Some(json!("2024-13-01T00:00:00Z")),
            "createdDate",
        ),
        (
            &["result"],
            Some(json!([true])),
            "result: invalid type: sequence",
        ),
        (
            &["environment"],
            Some(json!("prod")),
            "environment: 'prod' is not one of PRODUCTION",
        ),
        (&["environment"], Some(json!("production")), "environment"),
        (&["version"], Some(json!({})), "version: invalid type"),
        (
            &["deploymentCommits"],
            None,
            "missing field `deploymentCommits`",
        ),
        (
            &["deploymentCommits"],
            Some(json!([])),
            "deploymentCommits: must list at least one commit",
        ),
        (
            &["deploymentCommits"],
            Some(json!({})),
            "deploymentCommits: must list at least one commit",
        ),
        (
            &["deploymentCommits"],
            Some(json!("abc")),
            "deploymentCommits[0]: invalid type: string",
        ),
        (
            &["deploymentCommits", "0", "repoUrl"],
            None,
            "deploymentCommits[0]: missing field `repoUrl`",
        ),
        (
            &["deploymentCommits", "0", "commitSha"],
            None,
            "missing field `commitSha`",
        ),
        (
            &["deploymentCommits", "0", "commitSha"],
            Some(json!("  ")),
            "deploymentCommits[0].commitSha: must not be empty",
        ),
        (
            &["deploymentCommits", "0", "startedDate"],
            None,
            "missing field `startedDate`",
        ),
        (
            &["deploymentCommits", "0", "finishedDate"],
            Some(json!(null)),
            "deploymentCommits[0]: missing field `finishedDate`",
        ),
        (
            &["deploymentCommits", "0", "commitAuthoredDate"],
            Some(json!("09:00")),
            "deploymentCommits[0].commitAuthoredDate",
        ),
        (
            &["deploymentCommits", "0", "commitAuthor"],
            Some(json!(["a"])),
            "deploymentCommits[0].commitAuthor: invalid type: sequence",
        ),
    ];
    expect_400s("deployments", base, cases).await;
}

#[tokio::test]
async fn incident_bodies_with_missing_or_malformed_fields_are_400_naming_the_field() {
    let base = incident(
        "INC-1",
        "2024-06-10T14:00:00Z",
        Some("2024-06-10T14:45:00Z"),
    );
    let cases: Vec<(&[&str], Option<Value>, &str)> = vec![
        (&["issueKey"], None, "missing field `issueKey`"),
        (
            &["issueKey"],
            Some(json!("")),
            "issueKey: must not be empty",
        ),
        (&["title"], None, "missing field `title`"),
        (&["status"], None, "missing field `status`"),
        (
            &["status"],
            Some(json!("OPEN")),
            "status: 'OPEN' is not one of TODO, IN_PROGRESS, DONE",
        ),
        (&["originalStatus"], None, "missing field `originalStatus`"),
        (
            &["originalStatus"],
            Some(json!("")),
            "originalStatus: must not be empty",
        ),
        (&["createdDate"], None, "missing field `createdDate`"),
        (
            &["createdDate"],
            Some(json!(5)),
            "createdDate: invalid type: integer",
        ),
        (
            &["resolutionDate"],
            Some(json!("soon")),
            "resolutionDate: 'soon' is not a time DevLake accepts",
        ),
        (&["type"], Some(json!("BUG")), "type: 'BUG' is not INCIDENT"),
        (
            &["leadTimeMinutes"],
            Some(json!("4 5")),
            "leadTimeMinutes: invalid type: string",
        ),
        (
            &["leadTimeMinutes"],
            Some(json!(-1)),
            "leadTimeMinutes: -1 is negative",
        ),
        (
            &["storyPoint"],
            Some(json!("three")),
            "storyPoint: invalid type",
        ),
    ];
    expect_400s("incidents", base, cases).await;
}

fn pull_request(id: &str) -> Value {
    json!({
        "id": id,
        "displayTitle": "Add the thing",
        "pullRequestKey": 42,
        "createdDate": "2024-06-10T08:00:00Z",
        "mergedDate": "2024-06-10T09:00:00Z",
        "mergeCommitSha": "abc123",
        "status": "MERGED",
    })
}

#[tokio::test]
async fn pull_request_bodies_with_missing_or_malformed_fields_are_400_naming_the_field() {
    let cases: Vec<(&[&str], Option<Value>, &str)> = vec![
        (&["id"], None, "missing field `id`"),
        (&["displayTitle"], None, "missing field `displayTitle`"),
        (
            &["displayTitle"],
            Some(json!(" ")),
            "displayTitle: must not be empty",
        ),
        (&["pullRequestKey"], None, "missing field `pullRequestKey`"),
        (
            &["pullRequestKey"],
            Some(json!("42.0")),
            "pullRequestKey: invalid type: string",
        ),
        (
            &["pullRequestKey"],
            Some(json!(0)),
            "pullRequestKey: must not be 0",
        ),
        (&["createdDate"], None, "missing field `createdDate`"),
        (&["mergedDate"], Some(json!("2024/06/10")), "mergedDate"),
        (
            &["status"],
            Some(json!("DONE")),
            "status: 'DONE' is not one of OPEN, CLOSED, MERGED",
        ),
        (
            &["isDraft"],
            Some(json!("no")),
            "isDraft: invalid type: string",
        ),
        (&["additions"], Some(json!([1])), "additions: invalid type"),
        (
            &["firstCommitAuthoredDate"],
            Some(json!(0)),
            "firstCommitAuthoredDate: invalid type",
        ),
    ];
    expect_400s("pull-requests", pull_request("pr-1"), cases).await;
}

#[tokio::test]
async fn malformed_json_and_wrong_content_types_are_refused() {
    let app = app().await;
    let path = "/api/devlake/webhooks/svc/deployments";
    let response = app.post_as(&app.service, path, "{\"id\":").await;
    assert_eq!(response.status, 400);
    assert!(
        response.text().contains("Malformed JSON"),
        "{}",
        response.text()
    );
    let response = app.post_as(&app.service, path, "[1, 2]").await;
    assert_eq!(response.status, 400);
}

#[tokio::test]
async fn users_may_not_post_webhooks() {
    let app = app().await;
    for kind in [
        "deployments",
        "incidents",
        "pull-requests",
        "incidents/INC-1/close",
    ] {
        let path = format!("/api/devlake/webhooks/svc/{kind}");
        // Even a valid body: the caller is refused before the body is read.
        let body = deployment("d1", "2024-06-10T10:00:00Z").to_string();
        let response = app.post_as(&app.app.token, &path, &body).await;
        assert_eq!(response.status, 403, "{kind}: {}", response.text());
        let message = response.json()["error"].as_str().unwrap().to_owned();
        assert!(
            message.contains("Only service principals may post"),
            "{message}"
        );
        assert!(message.contains("user:default/tester"), "{message}");
    }
    let anonymous = app
        .app
        .send_anonymous(
            axum::http::Request::post("/api/devlake/webhooks/svc/deployments")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn reposting_updates_and_never_duplicates() {
    let app = app().await;
    let mut first = deployment("d1", "2024-06-10T10:00:00Z");
    first["result"] = "FAILURE".into();
    app.hook("svc", "deployments", first).await;
    let second = deployment("d1", "2024-06-10T10:00:00Z");
    app.hook("svc", "deployments", second.clone()).await;
    app.hook("svc", "deployments", second).await;
    let history = app
        .get("/api/devlake/deployment-history?service=svc")
        .await
        .json();
    assert_eq!(history["total"], 1);
    assert_eq!(history["deployments"][0]["status"], "SUCCESS");
    let metrics = app
        .metrics("project=svc&startDate=2024-06-10&endDate=2024-06-10")
        .await;
    assert_eq!(
        metrics["metrics"]["deploymentFrequency"]["details"]["deployments"],
        1
    );

    for _ in 0..2 {
        app.hook(
            "svc",
            "incidents",
            incident("INC-1", "2024-06-10T11:00:00Z", None),
        )
        .await;
    }
    app.hook(
        "svc",
        "incidents",
        incident(
            "INC-1",
            "2024-06-10T11:00:00Z",
            Some("2024-06-10T12:00:00Z"),
        ),
    )
    .await;
    let metrics = app
        .metrics("project=svc&startDate=2024-06-10&endDate=2024-06-10")
        .await;
    let cfr = &metrics["metrics"]["changeFailureRate"];
    assert_eq!(cfr["details"]["incidents"], 1, "{cfr}");
    assert_eq!(cfr["value"], 100.0);
    assert_eq!(metrics["metrics"]["timeToRestoreService"]["value"], 2.0);

    for title in ["first", "second"] {
        let mut pr = pull_request("pr-1");
        pr["displayTitle"] = title.into();
        app.hook("svc", "pull-requests", pr).await;
    }
}

#[tokio::test]
async fn a_deployment_posted_as_failure_is_not_a_success_unlike_devlake() {
    let app = app().await;
    let mut failed = deployment("d1", "2024-06-10T10:00:00Z");
    failed["result"] = "FAILURE".into();
    app.hook("svc", "deployments", failed).await;
    // A commit with its own result keeps it.
    let mut mixed = deployment("d2", "2024-06-11T10:00:00Z");
    mixed["result"] = "FAILURE".into();
    mixed["deploymentCommits"][0]["result"] = "SUCCESS".into();
    app.hook("svc", "deployments", mixed).await;
    let metrics = app
        .metrics("project=svc&startDate=2024-06-10&endDate=2024-06-11")
        .await;
    assert_eq!(
        metrics["metrics"]["deploymentFrequency"]["details"]["deployments"],
        1
    );
}

#[tokio::test]
async fn every_devlake_timestamp_format_is_accepted() {
    let app = app().await;
    let formats = [
        "2024-06-10T10:00:00Z",
        "2024-06-10T12:00:00+02:00",
        "2024-06-10T03:00:00-0700",
        "2024-06-10T10:00:00.000+00:00",
        "2024-06-10T10:00:00.000000Z",
        "2024-06-10 10:00:00",
        "2024-06-10 10:00",
    ];
    for (i, format) in formats.iter().enumerate() {
        let mut body = deployment(&format!("d{i}"), "2024-06-10T10:00:00Z");
        body["finishedDate"] = (*format).into();
        body["deploymentCommits"][0]["finishedDate"] = (*format).into();
        app.hook("svc", "deployments", body).await;
    }
    let history = app
        .get("/api/devlake/deployment-history?service=svc&limit=100")
        .await
        .json();
    for item in history["deployments"].as_array().unwrap() {
        assert_eq!(item["endTime"], "2024-06-10T10:00:00Z", "{item}");
        assert_eq!(item["duration"], 300);
    }
}

#[tokio::test]
async fn closing_an_incident_resolves_it_now_unless_it_was_resolved() {
    let app = app_at("2024-06-10T14:45:00Z", &[]).await;
    app.hook(
        "svc",
        "deployments",
        deployment("d1", "2024-06-10T14:00:00Z"),
    )
    .await;
    app.hook(
        "svc",
        "incidents",
        incident("INC-1", "2024-06-10T14:00:30Z", None),
    )
    .await;
    let window = "project=svc&startDate=2024-06-10&endDate=2024-06-10";
    let before = app.metrics(window).await;
    assert_eq!(
        before["metrics"]["timeToRestoreService"]["value"],
        Value::Null
    );

    let close = app
        .post_as(
            &app.service,
            "/api/devlake/webhooks/svc/incidents/INC-1/close",
            "",
        )
        .await;
    assert_eq!(close.status, 200, "{}", close.text());
    assert_eq!(close.json()["id"], "INC-1");
    let after = app.metrics(window).await;
    // Fawkes: incident at 14:00 after its deployment, restored at 14:45: 45 minutes = 0.8 hours.
    assert_eq!(
        after["metrics"]["timeToRestoreService"]["value"], 0.8,
        "{after}"
    );
    let mttr = app.metrics(&format!("{window}&benchmark=2021")).await;
    assert_eq!(
        mttr["metrics"]["timeToRestoreService"]["details"]["medianMinutes"],
        44
    );

    let unknown = app
        .post_as(
            &app.service,
            "/api/devlake/webhooks/svc/incidents/INC-9/close",
            "",
        )
        .await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.text().contains("INC-9"), "{}", unknown.text());
    let other = app
        .post_as(
            &app.service,
            "/api/devlake/webhooks/nobody/incidents/INC-1/close",
            "",
        )
        .await;
    assert_eq!(other.status, 404);
}
