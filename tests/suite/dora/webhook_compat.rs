//! Every webhook DevLake accepts is accepted here, read the same way: any content type but
//! multipart (JSON, a form, none), DevLake's exact time parsing, loosely typed values in any key
//! case, pull requests keyed by `pullRequestKey`; and deployment frequency is N/A, as on
//! DevLake's dashboard, for a window without a successful production deployment.

use axum::body::Body;
use axum::http::{Request, header};
use serde_json::{Value, json};

use super::{app, deployment};

/// POSTs `body` as the service with `content_type` (none when `None`).
async fn post_with(
    app: &super::DoraApp,
    path: &str,
    content_type: Option<&str>,
    body: &str,
) -> crate::support::TestResponse {
    let mut request =
        Request::post(path).header(header::AUTHORIZATION, format!("Bearer {}", app.service));
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    app.app
        .send(request.body(Body::from(body.to_owned())).unwrap())
        .await
}

async fn deployments_of(app: &super::DoraApp, project: &str) -> Value {
    app.get(&format!(
        "/api/devlake/deployment-history?service={project}&limit=100"
    ))
    .await
    .json()
}

#[tokio::test]
async fn json_is_read_with_a_form_or_no_content_type_as_devlake_reads_it() {
    let app = app().await;
    let path = "/api/devlake/webhooks/svc/deployments";
    let cases = [
        (Some("application/json"), "d1"),
        (Some("application/json; charset=utf-8"), "d2"),
        // `curl -d '{...}'` sends a form content type.
        (Some("application/x-www-form-urlencoded"), "d3"),
        (None, "d4"),
    ];
    for (content_type, id) in cases {
        let body = deployment(id, "2024-06-10T10:00:00Z").to_string();
        let response = post_with(&app, path, content_type, &body).await;
        assert_eq!(
            response.status,
            200,
            "{content_type:?}: {}",
            response.text()
        );
    }
    // Only the first JSON value is read, as DevLake's decoder does.
    let trailing = format!("{} trailing", deployment("d5", "2024-06-10T10:00:00Z"));
    let response = post_with(&app, path, None, &trailing).await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(deployments_of(&app, "svc").await["total"], 5);

    for content_type in ["text/plain", "multipart/form-data; boundary=x"] {
        let body = deployment("d9", "2024-06-10T10:00:00Z").to_string();
        let response = post_with(&app, path, Some(content_type), &body).await;
        assert_eq!(response.status, 415, "{content_type}");
        assert!(
            response.text().contains("application/json"),
            "{}",
            response.text()
        );
    }
    // An empty body is an empty object: DevLake's required fields are missing.
    let response = post_with(&app, path, None, "").await;
    assert_eq!(response.status, 400);
    assert!(
        response.text().contains("missing field `id`"),
        "{}",
        response.text()
    );
    // Elsewhere JSON still needs its content type.
    let response = app
        .app
        .call(
            axum::http::Method::POST,
            "/api/catalog/locations",
            "application/x-www-form-urlencoded",
            r#"{"type": "url", "target": "https://example.com/catalog-info.yaml"}"#,
        )
        .await;
    assert_eq!(response.status, 415, "{}", response.text());
}

#[tokio::test]
async fn times_are_parsed_exactly_as_devlake_parses_them() {
    let app = app().await;
    let post = |id: &str, finished: &str| {
        let mut body = deployment(id, "2024-06-10T10:00:00Z");
        body["finishedDate"] = finished.into();
        body["deploymentCommits"][0]["finishedDate"] = finished.into();
        body
    };
    let accepted = [
        ("2024-06-10", "2024-06-10T00:00:00Z"),
        ("2024-06-10T12:00:00.5+02:00", "2024-06-10T10:00:00.500Z"),
        (
            "2024-06-10T12:00:00.123456+02:00",
            "2024-06-10T10:00:00.123Z",
        ),
        ("2024-06-10T03:00:00.25-0700", "2024-06-10T10:00:00.250Z"),
        ("2024-06-10T9:00:00-01:00", "2024-06-10T10:00:00Z"),
        ("2024-06-10 10:00", "2024-06-10T10:00:00Z"),
    ];
    for (i, (text, stored)) in accepted.iter().enumerate() {
        let id = format!("ok{i}");
        app.hook("svc", "deployments", post(&id, text)).await;
        let history = deployments_of(&app, "svc").await;
        let item = history["deployments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id.as_str())
            .unwrap()
            .clone();
        assert_eq!(item["endTime"], *stored, "{text}");
    }
    let path = "/api/devlake/webhooks/svc/deployments";
    for text in [
        "2024-06-10T10:00:00",
        "2024-06-10T10:00:60Z",
        "2024-06-10T10:00:00+02",
        "2024-06-10T10:00:00.1234+02:00",
        "2024-06-10 10:00:00Z",
        "2024-02-30",
    ] {
        let body = post("bad", text).to_string();
        let response = app.post_as(&app.service, path, &body).await;
        assert_eq!(response.status, 400, "{text} was accepted");
        assert!(
            response.text().contains("is not a time DevLake accepts"),
            "{text}: {}",
            response.text()
        );
    }
}

#[tokio::test]
async fn loosely_typed_values_in_any_key_case_are_taken() {
    let app = app().await;
    // Keys in other cases, numbers for texts, texts for numbers, one commit as an object.
    let body = json!({
        "ID": 2024,
        "Environment": "PRODUCTION",
        "STARTEDDATE": "2024-06-10T09:55:00Z",
        "finisheddate": "2024-06-10T10:00:00Z",
        "deploymentCommits": {
            "REPOURL": "https://git.example/api",
            "commitSHA": 0xabc,
            "StartedDate": "2024-06-10T09:55:00Z",
            "FinishedDate": "2024-06-10T10:00:00Z",
            "commitMsg": true
        },
        "unknownField": [1, 2]
    });
    app.hook("svc", "deployments", body).await;
    let history = deployments_of(&app, "svc").await;
    let item = &history["deployments"][0];
    assert_eq!(item["id"], "2024");
    assert_eq!(item["commit"]["sha"], "2748");
    assert_eq!(item["commit"]["message"], "1");

    let incident = json!({
        "IssueKey": 7,
        "title": "down",
        "type": "INCIDENT",
        "status": "DONE",
        "originalStatus": "closed",
        "createdDate": "2024-06-10T10:30:00Z",
        "resolutionDate": "2024-06-10T11:30:00Z",
        "leadTimeMinutes": "0x5A",
        "storyPoint": "1e1",
    });
    app.hook("svc", "incidents", incident).await;
    let metrics = app
        .metrics("project=svc&startDate=2024-06-10&endDate=2024-06-10&benchmark=2021")
        .await;
    assert_eq!(
        metrics["metrics"]["timeToRestoreService"]["details"]["medianMinutes"],
        90
    );
}

#[tokio::test]
async fn pull_requests_are_keyed_by_their_pull_request_key() {
    let app = app().await;
    app.hook(
        "svc",
        "deployments",
        deployment("d1", "2024-06-10T10:00:00Z"),
    )
    .await;
    let pr = |id: &str, key: Value, created: &str| {
        json!({
            "id": id,
            "displayTitle": "change",
            "pullRequestKey": key,
            "createdDate": created,
            "mergedDate": "2024-06-10T09:00:00Z",
            "mergeCommitSha": "sha-d1",
        })
    };
    // The same key under another id updates the pull request; the key may be a text.
    app.hook(
        "svc",
        "pull-requests",
        pr("a", json!(12), "2024-06-10T05:00:00Z"),
    )
    .await;
    let path = "/api/devlake/webhooks/svc/pull-requests";
    let response = app
        .post_as(
            &app.service,
            path,
            &pr("b", json!("12"), "2024-06-10T08:00:00Z").to_string(),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json()["id"], "12");
    let window = "project=svc&startDate=2024-06-10&endDate=2024-06-10";
    let lead = &app.metrics(window).await["metrics"]["leadTimeForChanges"];
    assert_eq!(lead["details"]["pullRequests"], 1, "{lead}");
    // 08:00 -> 09:00 -> 10:00: the second post won.
    assert_eq!(lead["details"]["medianMinutes"], 120, "{lead}");
    // The same id under another key is another pull request.
    app.hook(
        "svc",
        "pull-requests",
        pr("b", json!(13), "2024-06-10T08:00:00Z"),
    )
    .await;
    let lead = &app.metrics(window).await["metrics"]["leadTimeForChanges"];
    assert_eq!(lead["details"]["pullRequests"], 2, "{lead}");
}

#[tokio::test]
async fn only_staging_or_failed_deployments_have_no_deployment_frequency() {
    let app = app().await;
    let mut staging = deployment("s1", "2024-06-10T10:00:00Z");
    staging["environment"] = "STAGING".into();
    app.hook("svc", "deployments", staging).await;
    let mut failed = deployment("f1", "2024-06-11T10:00:00Z");
    failed["result"] = "FAILURE".into();
    app.hook("svc", "deployments", failed).await;
    // N/A for a month and for more than six months (DevLake's dashboard says N/A for both).
    for window in [
        "startDate=2024-06-01&endDate=2024-06-30",
        "startDate=2023-10-01&endDate=2024-06-30",
    ] {
        let metrics = app.metrics(&format!("project=svc&{window}")).await;
        let frequency = &metrics["metrics"]["deploymentFrequency"];
        assert_eq!(frequency["value"], Value::Null, "{window}: {frequency}");
        assert_eq!(frequency["performance"], Value::Null, "{window}");
        assert_eq!(frequency["details"]["deployments"], 0);
    }
    // One successful production deployment gives a value again.
    app.hook(
        "svc",
        "deployments",
        deployment("p1", "2024-06-12T10:00:00Z"),
    )
    .await;
    let metrics = app
        .metrics("project=svc&startDate=2024-06-01&endDate=2024-06-30")
        .await;
    assert_eq!(metrics["metrics"]["deploymentFrequency"]["value"], 0.23);
}
