//! `GET /api/devlake/dora-metrics`: every parameter error, scopes, the Fawkes scenarios end to
//! end, N/A for missing data, and trends.

use serde_json::{Value, json};

use super::{DoraApp, app, app_at, deployment, incident};

#[tokio::test]
async fn every_parameter_error_is_a_400_or_404_that_says_what_to_fix() {
    let app = app_at("2024-07-01T12:00:00Z", &[("platform", &["svc"])]).await;
    app.hook(
        "svc",
        "deployments",
        deployment("d1", "2024-06-10T10:00:00Z"),
    )
    .await;
    let cases = [
        (
            "startDate=yesterday",
            400,
            "startDate: 'yesterday' is not a date",
        ),
        (
            "endDate=2024-02-30",
            400,
            "endDate: '2024-02-30' is not a date",
        ),
        ("endDate=2024-06-01T25:00:00Z", 400, "endDate"),
        ("startDate=1717200000", 400, "startDate"),
        (
            "startDate=2024-06-02&endDate=2024-06-01",
            400,
            "is after endDate",
        ),
        (
            "startDate=2024-06-01T12:00:00Z&endDate=2024-06-01T11:59:59Z",
            400,
            "is after endDate",
        ),
        (
            "startDate=2023-01-01&endDate=2024-06-30",
            400,
            "longer than 400 days",
        ),
        ("startDate=2023-05-28", 400, "longer than 400 days"),
        (
            "benchmark=2024",
            400,
            "benchmark: '2024' is not a DORA report",
        ),
        ("benchmark=", 400, "benchmark"),
        ("project=", 400, "project is empty"),
        ("team=%20", 400, "team is empty"),
        ("project=ghost", 404, "Unknown project 'ghost'"),
        ("team=ghosts", 404, "Unknown team 'ghosts'"),
        (
            "project=svc&team=other",
            404,
            "Project 'svc' is not in team 'other'",
        ),
        ("project=svc&project=svc2", 400, "Invalid query string"),
    ];
    for (query, status, expected) in cases {
        let response = app.get(&format!("/api/devlake/dora-metrics?{query}")).await;
        assert_eq!(
            response.status.as_u16(),
            status,
            "{query}: {}",
            response.text()
        );
        let message = response.json()["error"].as_str().unwrap().to_owned();
        assert!(message.contains(expected), "{query}: {message}");
    }
    // The edges that are allowed: 400 days, one day, a project with its own team.
    for query in [
        "startDate=2023-05-29",
        "startDate=2024-06-10&endDate=2024-06-10",
        "project=svc&team=platform",
        "benchmark=2021",
    ] {
        app.metrics(query).await;
    }
}

#[tokio::test]
async fn the_default_window_is_the_30_days_ending_today_in_utc() {
    let app = app_at("2024-07-01T00:30:00Z", &[]).await;
    app.hook(
        "svc",
        "deployments",
        deployment("d1", "2024-06-02T10:00:00Z"),
    )
    .await;
    app.hook(
        "svc",
        "deployments",
        deployment("d0", "2024-06-01T10:00:00Z"),
    )
    .await;
    let metrics = app.metrics("project=svc").await;
    assert_eq!(
        metrics["period"],
        json!({"startDate": "2024-06-02", "endDate": "2024-07-01"})
    );
    assert_eq!(metrics["benchmark"], "2023");
    assert_eq!(metrics["project"], "svc");
    assert_eq!(metrics["team"], Value::Null);
    let df = &metrics["metrics"]["deploymentFrequency"];
    assert_eq!(df["details"]["deployments"], 1, "{df}");
    assert_eq!(df["details"]["days"], 30);
    assert_eq!(df["unit"], "deploys/week");
}

/// The four scenarios of the Fawkes DORA feature file, through the webhooks.
#[tokio::test]
async fn fawkes_scenarios() {
    let app = app().await;
    // 10 successful deployments over 7 days: 10 deploys/week.
    for i in 0..10 {
        let day = 3 + i % 7;
        let body = deployment(
            &format!("d{i}"),
            &format!("2024-06-{day:02}T1{}:00:00Z", i / 7),
        );
        app.hook("weekly", "deployments", body).await;
    }
    let metrics = app
        .metrics("project=weekly&startDate=2024-06-03&endDate=2024-06-09")
        .await;
    let df = &metrics["metrics"]["deploymentFrequency"];
    assert_eq!(df["value"], 10.0, "{df}");
    assert_eq!(df["performance"], "elite");

    // A commit at 09:00 deployed at 13:15: 4.3 hours.
    let mut body = deployment("lt1", "2024-06-10T13:15:00Z");
    body["deploymentCommits"][0]["commitAuthoredDate"] = "2024-06-10T09:00:00Z".into();
    app.hook("leadtime", "deployments", body).await;
    let metrics = app
        .metrics("project=leadtime&startDate=2024-06-10&endDate=2024-06-10")
        .await;
    let lt = &metrics["metrics"]["leadTimeForChanges"];
    assert_eq!(lt["value"], 4.3, "{lt}");
    assert_eq!(lt["unit"], "hours");
    assert_eq!(lt["performance"], "elite");
    assert_eq!(
        lt["details"],
        json!({"changes": 1, "pullRequests": 0, "commits": 1, "medianMinutes": 255})
    );

    // 2 of 20 deployments with incidents: 10.0%, high (2023).
    for i in 0..20 {
        let body = deployment(&format!("c{i}"), &format!("2024-06-{:02}T10:00:00Z", i + 1));
        app.hook("cfr", "deployments", body).await;
    }
    for (key, day) in [("INC-1", 4), ("INC-2", 12)] {
        let created = format!("2024-06-{day:02}T11:00:00Z");
        app.hook("cfr", "incidents", incident(key, &created, None))
            .await;
    }
    let metrics = app
        .metrics("project=cfr&startDate=2024-06-01&endDate=2024-06-30")
        .await;
    let cfr = &metrics["metrics"]["changeFailureRate"];
    assert_eq!(cfr["value"], 10.0, "{cfr}");
    assert_eq!(cfr["unit"], "percent");
    assert_eq!(cfr["performance"], "high");
    assert_eq!(
        cfr["details"],
        json!({"deployments": 20, "failedDeployments": 2, "incidents": 2})
    );

    // An incident at 14:00 after its deployment, resolved at 14:45: 0.8 hours.
    app.hook(
        "restore",
        "deployments",
        deployment("r1", "2024-06-10T13:59:00Z"),
    )
    .await;
    let body = incident(
        "INC-7",
        "2024-06-10T14:00:00Z",
        Some("2024-06-10T14:44:00Z"),
    );
    app.hook("restore", "incidents", body).await;
    let metrics = app
        .metrics("project=restore&startDate=2024-06-10&endDate=2024-06-10")
        .await;
    let restore = &metrics["metrics"]["timeToRestoreService"];
    assert_eq!(restore["value"], 0.8, "{restore}");
    assert_eq!(restore["performance"], "elite");
}

/// Reference §7.1: the verified DevLake examples, through the webhooks and pull requests.
#[tokio::test]
async fn devlake_worked_examples() {
    let app = app().await;
    let june = "startDate=2024-06-01&endDate=2024-06-30";
    // Deployment days Mon 3, Tue 4, Wed 5 (two), Mon 10, 17, 24 June; a failed and a staging one.
    let days = [
        "03T10", "04T10", "05T09", "05T15", "10T10", "17T10", "24T10",
    ];
    for (i, day) in days.iter().enumerate() {
        app.hook(
            "ex",
            "deployments",
            deployment(&format!("d{i}"), &format!("2024-06-{day}:00:00Z")),
        )
        .await;
    }
    let mut failed = deployment("failed", "2024-06-20T10:00:00Z");
    failed["result"] = "FAILURE".into();
    app.hook("ex", "deployments", failed).await;
    let mut staging = deployment("staging", "2024-06-21T10:00:00Z");
    staging["environment"] = "STAGING".into();
    app.hook("ex", "deployments", staging).await;
    // Pull requests merged by four of them, with cycle times 1000, 2000, 3000 and 4000 minutes.
    for (i, minutes) in [1000, 2000, 3000, 4000].into_iter().enumerate() {
        let deployed =
            fawkes_portal::dora::calendar::parse_timestamp(&format!("2024-06-{}:00:00Z", days[i]))
                .unwrap();
        let at = |ms: i64| fawkes_portal::dora::calendar::format_timestamp(ms);
        app.hook(
            "ex",
            "pull-requests",
            json!({
                "id": format!("pr{i}"), "displayTitle": "change", "pullRequestKey": i + 1,
                "createdDate": at(deployed - minutes * 60_000),
                "mergedDate": at(deployed - 60_000),
                "mergeCommitSha": format!("sha-d{i}"),
            }),
        )
        .await;
    }
    // Incidents after two of the seven deployments.
    app.hook(
        "ex",
        "incidents",
        incident("I1", "2024-06-03T12:00:00Z", Some("2024-06-03T20:00:00Z")),
    )
    .await;
    app.hook(
        "ex",
        "incidents",
        incident("I2", "2024-06-10T11:00:00Z", Some("2024-06-11T10:00:00Z")),
    )
    .await;

    let metrics = app.metrics(&format!("project=ex&{june}")).await;
    let m = &metrics["metrics"];
    assert_eq!(m["deploymentFrequency"]["performance"], "high", "{m}");
    assert_eq!(
        m["deploymentFrequency"]["details"]["medianDeploymentDaysPerWeek"],
        1
    );
    assert_eq!(m["deploymentFrequency"]["details"]["deployments"], 7);
    assert_eq!(m["deploymentFrequency"]["value"], 1.63);
    assert_eq!(m["leadTimeForChanges"]["value"], 33.3);
    assert_eq!(m["leadTimeForChanges"]["performance"], "high");
    assert_eq!(m["changeFailureRate"]["value"], 28.6);
    assert_eq!(m["changeFailureRate"]["performance"], "low");
    // Recoveries: 10:00 -> 20:00 (600 minutes) and 10:00 -> 10:00 next day (1440): 10.0 hours.
    assert_eq!(m["timeToRestoreService"]["value"], 10.0);
    assert_eq!(m["timeToRestoreService"]["performance"], "high");

    let metrics = app
        .metrics(&format!("project=ex&{june}&benchmark=2021"))
        .await;
    let m = &metrics["metrics"];
    assert_eq!(metrics["benchmark"], "2021");
    assert_eq!(m["deploymentFrequency"]["performance"], "high");
    assert_eq!(
        m["deploymentFrequency"]["details"]["medianDeploymentDaysPerMonth"],
        6
    );
    assert_eq!(m["changeFailureRate"]["performance"], "medium");
    // 2021: incident ages 480 and 1380 minutes; lower median 480 = 8.0 hours.
    assert_eq!(m["timeToRestoreService"]["value"], 8.0);
}

#[tokio::test]
async fn no_data_is_null_never_a_fake_zero() {
    let app = app_at("2024-07-01T12:00:00Z", &[("platform", &["quiet"])]).await;
    let metrics = app.metrics("project=quiet").await;
    assert_eq!(metrics["team"], "platform");
    for name in [
        "deploymentFrequency",
        "leadTimeForChanges",
        "changeFailureRate",
        "timeToRestoreService",
    ] {
        let metric = &metrics["metrics"][name];
        assert_eq!(metric["value"], Value::Null, "{name}: {metric}");
        assert_eq!(metric["performance"], Value::Null, "{name}");
        assert_eq!(metric["trend"], Value::Null, "{name}");
    }
    // Deployments but never an incident: a deployment frequency, still no change failure rate.
    app.hook(
        "quiet",
        "deployments",
        deployment("d1", "2024-06-20T10:00:00Z"),
    )
    .await;
    let metrics = app.metrics("project=quiet").await;
    assert_eq!(metrics["metrics"]["deploymentFrequency"]["value"], 0.23);
    assert_eq!(
        metrics["metrics"]["changeFailureRate"]["value"],
        Value::Null
    );
    // An incident before any deployment links to none: 0%.
    app.hook(
        "quiet",
        "incidents",
        incident("I0", "2024-06-01T10:00:00Z", None),
    )
    .await;
    let metrics = app.metrics("project=quiet").await;
    assert_eq!(metrics["metrics"]["changeFailureRate"]["value"], 0.0);
    assert_eq!(
        metrics["metrics"]["changeFailureRate"]["performance"],
        "elite"
    );
}

async fn team_app() -> DoraApp {
    let app = app_at(
        "2024-07-01T12:00:00Z",
        &[("platform", &["api", "web"]), ("data", &["etl"])],
    )
    .await;
    for (project, count) in [("api", 3), ("web", 4), ("etl", 10)] {
        for i in 0..count {
            let body = deployment(
                &format!("d{i}"),
                &format!("2024-06-{:02}T10:00:00Z", 10 + i),
            );
            app.hook(project, "deployments", body).await;
        }
    }
    app
}

#[tokio::test]
async fn a_team_aggregates_its_projects_and_no_scope_means_everything() {
    let app = team_app().await;
    let window = "startDate=2024-06-10&endDate=2024-06-23";
    let team = app.metrics(&format!("team=platform&{window}")).await;
    assert_eq!(team["team"], "platform");
    assert_eq!(team["project"], Value::Null);
    assert_eq!(
        team["metrics"]["deploymentFrequency"]["details"]["deployments"],
        7
    );
    assert_eq!(team["metrics"]["deploymentFrequency"]["value"], 3.5);
    let project = app.metrics(&format!("project=web&{window}")).await;
    assert_eq!(project["team"], "platform");
    let all = app.metrics(window).await;
    assert_eq!(
        all["metrics"]["deploymentFrequency"]["details"]["deployments"],
        17
    );
    assert_eq!(
        (all["team"].clone(), all["project"].clone()),
        (Value::Null, Value::Null)
    );
}

#[tokio::test]
async fn trends_compare_with_the_previous_window_of_the_same_length() {
    let app = app().await;
    // Week 1: 2 deployments; week 2: 4; week 3: 4; week 4: 1.
    let days = [3, 4, 10, 11, 12, 13, 17, 18, 19, 20, 24];
    for (i, day) in days.iter().enumerate() {
        app.hook(
            "svc",
            "deployments",
            deployment(&format!("d{i}"), &format!("2024-06-{day:02}T10:00:00Z")),
        )
        .await;
    }
    let trend = |metrics: &Value| metrics["metrics"]["deploymentFrequency"]["trend"].clone();
    let up = app
        .metrics("project=svc&startDate=2024-06-10&endDate=2024-06-16")
        .await;
    assert_eq!(trend(&up), "increasing");
    let flat = app
        .metrics("project=svc&startDate=2024-06-17&endDate=2024-06-23")
        .await;
    assert_eq!(trend(&flat), "stable");
    let down = app
        .metrics("project=svc&startDate=2024-06-24&endDate=2024-06-30")
        .await;
    assert_eq!(trend(&down), "decreasing");
    // No lead time in either window: no trend.
    assert_eq!(up["metrics"]["leadTimeForChanges"]["trend"], Value::Null);
}
