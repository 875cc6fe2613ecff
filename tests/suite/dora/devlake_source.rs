//! The DevLake source through the server: read-only with `SELECT` alone on a v1.0.1-shaped
//! database, exact string comparisons under a case-insensitive collation, what a caller reads when
//! DevLake's database is down, slow or not DevLake's, and `[dora] source = "both"`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fawkes_portal::config::dora::DevLakeConfig;
use fawkes_portal::dora::devlake::DevLakeSource;
use fawkes_portal::dora::source::DoraSource;
use serde_json::Value;
use sqlx::Executor;

use super::dataset::{Dataset, Project};
use super::source_contract::{deployment, shipped};
use super::{DoraApp, app_with};

const NOW: &str = "2024-06-30T12:00:00Z";
const JUNE: &str = "startDate=2024-06-01&endDate=2024-06-30";

async fn devlake_app(url: String, source: &str, timeout: &str) -> DoraApp {
    let (source, timeout) = (source.to_owned(), timeout.to_owned());
    app_with(NOW, &[], move |s| {
        s.dora.source = source;
        s.dora.devlake.database_url = url;
        s.dora.devlake.timeout = timeout;
    })
    .await
}

fn one_project(name: &str, dates: &[&str]) -> Project {
    Project {
        name: name.into(),
        deployments: dates
            .iter()
            .enumerate()
            .map(|(i, at)| shipped(&format!("{name}-{i}"), &format!("{name}{i}"), at))
            .collect(),
        ..Project::default()
    }
}

fn deployments_in(metrics: &Value) -> &Value {
    &metrics["metrics"]["deploymentFrequency"]["details"]["deployments"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_select_only_user_reads_a_devlake_v1_0_1_database() {
    let db = crate::devlake_db!();
    // Columns as DevLake v1.0.1 left them (before migrations 20240521 and 20260217).
    db.run_script(
        "ALTER TABLE cicd_deployments MODIFY name varchar(255) NULL; \
         ALTER TABLE cicd_deployment_commits MODIFY repo_url varchar(191) NOT NULL",
    )
    .await;
    Dataset {
        projects: vec![one_project(
            "svc",
            &["2024-06-10T10:00:00Z", "2024-06-11T10:00:00Z"],
        )],
    }
    .write_devlake(&db)
    .await;
    let app = devlake_app(db.reader_url().await, "devlake", "10s").await;
    let metrics = app.metrics(&format!("project=svc&{JUNE}")).await;
    assert_eq!(deployments_in(&metrics), 2);
    let history = app.get("/api/devlake/deployment-history?service=svc").await;
    assert_eq!(history.status, 200, "{}", history.text());
    assert_eq!(history.json()["total"], 2);
    let widget = app.get("/api/dora/metrics?project=svc").await;
    assert_eq!(widget.status, 200, "{}", widget.text());
    // Webhooks are refused: nothing would read them.
    let post = app
        .post_as(
            &app.service,
            "/api/devlake/webhooks/svc/deployments",
            &super::deployment("d9", "2024-06-12T10:00:00Z").to_string(),
        )
        .await;
    assert_eq!(post.status, 409, "{}", post.text());
    assert!(
        post.text().contains("source = \\\"devlake\\\""),
        "{}",
        post.text()
    );
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strings_compare_exactly_under_a_case_insensitive_collation() {
    let db = crate::devlake_db!();
    for table in ["projects", "project_mapping", "cicd_deployment_commits"] {
        db.pool
            .execute(sqlx::AssertSqlSafe(format!(
                "ALTER TABLE {table} CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
            )))
            .await
            .unwrap();
    }
    let mut project = one_project("svc", &["2024-06-10T10:00:00Z"]);
    project.deployments.push(deployment(
        "lower-env",
        "production",
        &[("l1", "SUCCESS", "2024-06-11T10:00:00Z")],
    ));
    project.deployments.push(deployment(
        "lower-result",
        "PRODUCTION",
        &[("l2", "success", "2024-06-12T10:00:00Z")],
    ));
    Dataset {
        projects: vec![project],
    }
    .write_devlake(&db)
    .await;
    let source = DevLakeSource::connect_lazy(&DevLakeConfig {
        url: db.url.clone(),
        max_connections: 2,
        timeout: Duration::from_secs(10),
    })
    .unwrap();
    assert!(source.has_project("svc").await.unwrap());
    assert!(!source.has_project("SVC").await.unwrap());
    let june = fawkes_portal::dora::metrics::Window::days(
        fawkes_portal::dora::calendar::Day::parse("2024-06-01").unwrap(),
        fawkes_portal::dora::calendar::Day::parse("2024-06-30").unwrap(),
    );
    let facts = source.facts("svc", june, false).await.unwrap();
    let ids: Vec<&str> = facts.deployments.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["svc-0"]);
    assert_eq!(
        source.facts("SVC", june, false).await.unwrap().deployments,
        []
    );
    source.close().await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_devlake_database_down_slow_or_without_its_tables_says_so() {
    // Down: nothing listens on the port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = devlake_app(
        format!("mysql://root@127.0.0.1:{port}/lake"),
        "devlake",
        "1s",
    )
    .await;
    let response = app
        .get(&format!("/api/devlake/dora-metrics?project=svc&{JUNE}"))
        .await;
    assert_eq!(response.status, 503, "{}", response.text());
    assert_eq!(
        response.json()["error"],
        "DevLake's database is unavailable"
    );

    let db = crate::devlake_db!();
    Dataset {
        projects: vec![one_project("svc", &["2024-06-10T10:00:00Z"])],
    }
    .write_devlake(&db)
    .await;
    let app = devlake_app(db.url.clone(), "devlake", "1s").await;
    // Slow: a lock held elsewhere keeps the read waiting past the timeout.
    let mut locker = db.pool.acquire().await.unwrap();
    locker.execute("LOCK TABLES projects WRITE").await.unwrap();
    let started = Instant::now();
    let response = app
        .get(&format!("/api/devlake/dora-metrics?project=svc&{JUNE}"))
        .await;
    assert_eq!(response.status, 503, "{}", response.text());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    locker.execute("UNLOCK TABLES").await.unwrap();
    drop(locker);
    let metrics = app.metrics(&format!("project=svc&{JUNE}")).await;
    assert_eq!(deployments_in(&metrics), 1);

    // Not DevLake's (or an older one): a table is missing.
    db.run_script("DROP TABLE project_incident_deployment_relationships")
        .await;
    db.run_script(
        "INSERT INTO incidents (id, created_date, `table`, scope_id) \
         VALUES ('webhook:1:I1', '2024-06-10 11:00:00', 'boards', 'webhook:1')",
    )
    .await;
    let response = app
        .get(&format!("/api/devlake/dora-metrics?project=svc&{JUNE}"))
        .await;
    assert_eq!(response.status, 502, "{}", response.text());
    let message = response.json()["error"].as_str().unwrap().to_owned();
    assert!(message.contains("v1.0.1"), "{message}");
    assert!(
        !message.contains("project_incident"),
        "the cause goes to the log: {message}"
    );
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_sources_read_each_project_from_exactly_one() {
    let db = crate::devlake_db!();
    Dataset {
        projects: vec![
            one_project("shared", &["2024-06-10T10:00:00Z", "2024-06-11T10:00:00Z"]),
            one_project("lake-only", &["2024-06-12T10:00:00Z"]),
        ],
    }
    .write_devlake(&db)
    .await;
    let app = devlake_app(db.url.clone(), "both", "10s").await;
    let hooks = Dataset {
        projects: vec![
            one_project(
                "shared",
                &[
                    "2024-06-13T10:00:00Z",
                    "2024-06-14T10:00:00Z",
                    "2024-06-15T10:00:00Z",
                ],
            ),
            one_project(
                "hook-only",
                &["2024-06-16T10:00:00Z", "2024-06-17T10:00:00Z"],
            ),
        ],
    };
    for (project, kind, body) in hooks.webhook_bodies() {
        app.hook(&project, kind, body).await;
    }
    let count = |query: String| {
        let app = &app;
        async move { deployments_in(&app.metrics(&query).await).clone() }
    };
    // DevLake knows `shared`: its facts come from DevLake alone, never added to the webhooks'.
    assert_eq!(count(format!("project=shared&{JUNE}")).await, 2);
    assert_eq!(count(format!("project=lake-only&{JUNE}")).await, 1);
    assert_eq!(count(format!("project=hook-only&{JUNE}")).await, 2);
    assert_eq!(count(JUNE.to_owned()).await, 5);
    let history = app
        .get("/api/devlake/deployment-history?service=shared")
        .await
        .json();
    assert_eq!(history["total"], 2);
    let source: Arc<dyn DoraSource> = Arc::new(
        DevLakeSource::connect_lazy(&DevLakeConfig {
            url: db.url.clone(),
            max_connections: 1,
            timeout: Duration::from_secs(10),
        })
        .unwrap(),
    );
    assert_eq!(source.projects().await.unwrap(), ["lake-only", "shared"]);
    db.drop().await;
}

/// Two DevLake projects of one team that map the same CI/CD scope (a shared repository or
/// pipeline), the second without the first's board: DevLake's dashboard counts a deployment once
/// for any selection of projects, and counts an incident for every selected deployment the dora
/// plugin linked it to, whichever project's board it is on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_sharing_a_ci_cd_scope_count_its_deployments_once() {
    let db = crate::devlake_db!();
    let mut api = one_project("api", &["2024-06-10T10:00:00Z", "2024-06-11T10:00:00Z"]);
    api.incidents.push(super::source_contract::incident(
        "INC-1",
        "2024-06-11T12:00:00Z",
        Some("2024-06-11T14:00:00Z"),
    ));
    // `ops` (no deployments) puts `api` and `web` in different statements of the team's read
    // (two projects each), so the shared deployment is merged across them.
    Dataset {
        projects: vec![
            api,
            one_project("ops", &[]),
            one_project("web", &["2024-06-12T10:00:00Z"]),
        ],
    }
    .write_devlake(&db)
    .await;
    // `web` also deploys through `api`'s pipeline (connection 1), not its board.
    db.run_script(
        "INSERT INTO project_mapping (project_name, `table`, row_id) \
         VALUES ('web', 'cicd_scopes', 'webhook:1')",
    )
    .await;
    let url = db.url.clone();
    let app = app_with(NOW, &[("shop", &["api", "ops", "web"])], move |s| {
        s.dora.source = "devlake".into();
        s.dora.devlake.database_url = url;
    })
    .await;
    let cfr = |metrics: &Value| {
        let cfr = &metrics["metrics"]["changeFailureRate"];
        (
            cfr["details"]["failedDeployments"].clone(),
            cfr["value"].clone(),
        )
    };
    let api = app.metrics(&format!("project=api&{JUNE}")).await;
    assert_eq!(deployments_in(&api), 2);
    assert_eq!(cfr(&api), (1.into(), 50.0.into()));
    // `web` counts api's incident on the deployment they share, as DevLake's dashboard does.
    let web = app.metrics(&format!("project=web&{JUNE}")).await;
    assert_eq!(deployments_in(&web), 3);
    assert_eq!(cfr(&web), (1.into(), 33.3.into()));
    // The team: three deployments, not five; one of them failed.
    let shop = app.metrics(&format!("team=shop&{JUNE}")).await;
    assert_eq!(deployments_in(&shop), 3);
    assert_eq!(cfr(&shop), (1.into(), 33.3.into()));
    let restore = &shop["metrics"]["timeToRestoreService"]["details"]["incidents"];
    assert_eq!(restore, 1, "{shop}");
    let shop_2021 = app
        .metrics(&format!("team=shop&{JUNE}&benchmark=2021"))
        .await;
    let restore = &shop_2021["metrics"]["timeToRestoreService"]["details"]["incidents"];
    assert_eq!(restore, 1, "{shop_2021}");
    db.drop().await;
}
