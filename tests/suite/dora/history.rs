//! `GET /api/devlake/deployment-history`: parameters, order, totals and the items' fields.

use serde_json::{Value, json};

use super::{app_at, deployment};

#[tokio::test]
async fn parameter_errors() {
    let app = app_at("2024-07-01T12:00:00Z", &[("platform", &["configured"])]).await;
    app.hook(
        "svc",
        "deployments",
        deployment("d1", "2024-06-10T10:00:00Z"),
    )
    .await;
    let cases = [
        ("", 400, "service is required"),
        ("service=", 400, "service is empty"),
        (
            "service=svc&environment=production",
            400,
            "environment: 'production' is not one of dev, staging, prod",
        ),
        ("service=svc&environment=PROD", 400, "environment"),
        (
            "service=svc&limit=0",
            400,
            "limit: '0' is not a whole number from 1 to 100",
        ),
        ("service=svc&limit=101", 400, "limit: '101'"),
        ("service=svc&limit=ten", 400, "limit: 'ten'"),
        ("service=svc&limit=-1", 400, "limit"),
        ("service=ghost", 404, "Unknown project 'ghost'"),
    ];
    for (query, status, expected) in cases {
        let response = app
            .get(&format!("/api/devlake/deployment-history?{query}"))
            .await;
        assert_eq!(
            response.status.as_u16(),
            status,
            "{query}: {}",
            response.text()
        );
        let message = response.json()["error"].as_str().unwrap().to_owned();
        assert!(message.contains(expected), "{query}: {message}");
    }
    // A configured project without deployments has an empty history.
    let empty = app
        .get("/api/devlake/deployment-history?service=configured")
        .await;
    assert_eq!(empty.status, 200);
    assert_eq!(
        empty.json(),
        json!({"service": "configured", "deployments": [], "total": 0})
    );
}

#[tokio::test]
async fn newest_first_with_the_total_and_the_spec_fields() {
    let app = app_at("2024-07-01T12:00:00Z", &[]).await;
    let environments = [
        "PRODUCTION",
        "STAGING",
        "DEVELOPMENT",
        "TESTING",
        "PRODUCTION",
    ];
    for (i, environment) in environments.iter().enumerate() {
        let mut body = deployment(&format!("d{i}"), &format!("2024-06-1{i}T10:00:00Z"));
        body["environment"] = (*environment).into();
        app.hook("svc", "deployments", body).await;
    }
    let mut full = json!({
        "id": "deploy-789",
        "result": "SUCCESS",
        "version": "v1.2.3",
        "triggeredBy": "GitHub Push",
        "startedDate": "2024-12-06T08:00:00Z",
        "finishedDate": "2024-12-06T08:05:00Z",
        "deploymentCommits": [
            {"repoUrl": "https://github.com/fawkes/api", "commitSha": "def456",
             "commitMsg": "feat: add new feature", "commitAuthor": "developer@example.com",
             "startedDate": "2024-12-06T08:00:00Z", "finishedDate": "2024-12-06T08:05:00Z"},
            {"repoUrl": "https://github.com/fawkes/web", "commitSha": "aaa111",
             "startedDate": "2024-12-06T08:00:00Z", "finishedDate": "2024-12-06T08:05:00Z"}
        ]
    });
    app.hook("svc", "deployments", full.clone()).await;

    let history = app
        .get("/api/devlake/deployment-history?service=svc")
        .await
        .json();
    assert_eq!(history["service"], "svc");
    assert_eq!(history["total"], 6);
    assert_eq!(
        history["deployments"][0],
        json!({
            "id": "deploy-789",
            "version": "v1.2.3",
            "environment": "prod",
            "status": "SUCCESS",
            "startTime": "2024-12-06T08:00:00Z",
            "endTime": "2024-12-06T08:05:00Z",
            "duration": 300,
            "triggeredBy": "GitHub Push",
            "commit": {"sha": "def456", "message": "feat: add new feature", "author": "developer@example.com"}
        })
    );
    let ids = |history: &Value| -> Vec<String> {
        history["deployments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&history), ["deploy-789", "d4", "d3", "d2", "d1", "d0"]);

    let page = app
        .get("/api/devlake/deployment-history?service=svc&limit=2")
        .await
        .json();
    assert_eq!(ids(&page), ["deploy-789", "d4"]);
    assert_eq!(
        page["total"], 6,
        "total counts every match, not just the page"
    );

    let cases = [
        ("prod", vec!["deploy-789", "d4", "d0"]),
        ("staging", vec!["d1"]),
        ("dev", vec!["d3", "d2"]),
    ];
    for (environment, expected) in cases {
        let path = format!("/api/devlake/deployment-history?service=svc&environment={environment}");
        let page = app.get(&path).await.json();
        assert_eq!(ids(&page), expected, "{environment}");
        assert_eq!(page["total"], expected.len(), "{environment}");
        for item in page["deployments"].as_array().unwrap() {
            assert_eq!(item["environment"], environment);
        }
    }
    let page = app
        .get("/api/devlake/deployment-history?service=svc&environment=prod&limit=1")
        .await
        .json();
    assert_eq!(
        (ids(&page), page["total"].clone()),
        (vec!["deploy-789".to_owned()], json!(3))
    );

    // A re-post that fails the deployment shows in the history.
    full["result"] = "FAILURE".into();
    app.hook("svc", "deployments", full).await;
    let history = app
        .get("/api/devlake/deployment-history?service=svc&limit=1")
        .await
        .json();
    assert_eq!(history["deployments"][0]["status"], "FAILURE");
    assert_eq!(history["total"], 6);
}
