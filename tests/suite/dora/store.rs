//! The DevLake store's contract, on SQLite and PostgreSQL alike.

use fawkes_portal::db::Database;
use fawkes_portal::dora::calendar::{Day, parse_timestamp};
use fawkes_portal::dora::metrics::{Change, LinkedIncident, ProdDeployment, Window};
use fawkes_portal::dora::model::{
    DeploymentRecord, DeploymentWebhook, IncidentWebhook, PullRequestWebhook,
};
use serde_json::json;

fn ms(text: &str) -> i64 {
    parse_timestamp(text).unwrap()
}

fn june() -> Window {
    Window::days(
        Day::parse("2024-06-01").unwrap(),
        Day::parse("2024-06-30").unwrap(),
    )
}

/// A deployment of `commits` (sha, authored) finishing at `finished`.
fn deployment(
    id: &str,
    environment: &str,
    finished: &str,
    commits: &[(&str, Option<&str>)],
) -> DeploymentRecord {
    let commits: Vec<_> = commits
        .iter()
        .map(|(sha, authored)| {
            json!({"repoUrl": "https://git/r", "commitSha": sha, "commitAuthoredDate": authored,
                   "startedDate": finished, "finishedDate": finished})
        })
        .collect();
    serde_json::from_value::<DeploymentWebhook>(json!({
        "id": id, "environment": environment, "startedDate": finished, "finishedDate": finished,
        "deploymentCommits": commits,
    }))
    .unwrap()
    .into_record()
    .unwrap()
}

async fn facts_link_incidents_to_the_last_successful_production_deployment(db: &Database) {
    let store = fawkes_portal::dora::store::open(db);
    let save = |record: DeploymentRecord| {
        let store = store.clone();
        async move { store.save_deployment("svc", &record, 0).await.unwrap() }
    };
    save(deployment(
        "a",
        "PRODUCTION",
        "2024-06-10T10:00:00Z",
        &[("s1", None)],
    ))
    .await;
    save(deployment(
        "b",
        "STAGING",
        "2024-06-11T10:00:00Z",
        &[("s2", None)],
    ))
    .await;
    save(deployment(
        "c",
        "PRODUCTION",
        "2024-06-12T10:00:00Z",
        &[("s3", None)],
    ))
    .await;
    // Another project's deployment never takes this project's incidents.
    store
        .save_deployment(
            "other",
            &deployment("z", "PRODUCTION", "2024-06-11T12:00:00Z", &[("s9", None)]),
            0,
        )
        .await
        .unwrap();
    for (key, created, resolved) in [
        ("before", "2024-06-01T00:00:00Z", None),
        (
            "after-a",
            "2024-06-11T12:00:00Z",
            Some("2024-06-11T13:00:00Z"),
        ),
        ("after-c", "2024-06-13T00:00:00Z", None),
    ] {
        let body: IncidentWebhook = serde_json::from_value(json!({
            "issueKey": key, "title": "t", "status": "TODO", "originalStatus": "open",
            "createdDate": created, "resolutionDate": resolved,
        }))
        .unwrap();
        store
            .save_incident("svc", &body.into_record().unwrap())
            .await
            .unwrap();
    }
    let facts = store.facts("svc", june(), true).await.unwrap();
    assert!(facts.has_deployments && facts.has_incidents);
    let mut deployments = facts.deployments.clone();
    deployments.sort_by_key(|d| d.finished_ms);
    assert_eq!(
        deployments,
        [
            ProdDeployment {
                id: "a".into(),
                finished_ms: ms("2024-06-10T10:00:00Z")
            },
            ProdDeployment {
                id: "c".into(),
                finished_ms: ms("2024-06-12T10:00:00Z")
            },
        ]
    );
    let mut incidents = facts.incidents.clone();
    incidents.sort_by(|x, y| x.deployment.cmp(&y.deployment));
    assert_eq!(
        incidents,
        [
            LinkedIncident {
                deployment: "a".into(),
                resolution_ms: Some(ms("2024-06-11T13:00:00Z"))
            },
            LinkedIncident {
                deployment: "c".into(),
                resolution_ms: None
            },
        ]
    );
    assert_eq!(facts.restored.len(), 1);
    assert_eq!(facts.restored[0].lead_time_minutes, Some(60));
    // Unknown projects have no facts.
    assert_eq!(
        store.facts("nobody", june(), true).await.unwrap(),
        Default::default()
    );
}

async fn a_change_counts_at_its_first_successful_production_deployment(db: &Database) {
    let store = fawkes_portal::dora::store::open(db);
    // s1 is shipped by "a" and again by "b": it counts at "a" only. s2 first ships with "b".
    let a = deployment(
        "a",
        "PRODUCTION",
        "2024-06-10T10:00:00Z",
        &[("s1", Some("2024-06-10T09:00:00Z"))],
    );
    let b = deployment(
        "b",
        "PRODUCTION",
        "2024-06-11T10:00:00Z",
        &[("s1", Some("2024-06-10T09:00:00Z")), ("s2", None)],
    );
    let mut failed = deployment("f", "PRODUCTION", "2024-06-09T10:00:00Z", &[("s2", None)]);
    failed.commits[0].result = "FAILURE".into();
    for record in [&b, &a, &failed] {
        store.save_deployment("svc", record, 0).await.unwrap();
    }
    let pr: PullRequestWebhook = serde_json::from_value(json!({
        "id": "pr-1", "displayTitle": "t", "pullRequestKey": 1, "mergeCommitSha": "s2",
        "createdDate": "2024-06-11T08:00:00Z", "mergedDate": "2024-06-11T09:00:00Z",
        "firstCommitAuthoredDate": "2024-06-11T07:30:00Z",
    }))
    .unwrap();
    store
        .save_pull_request("svc", &pr.into_record().unwrap())
        .await
        .unwrap();
    let facts = store.facts("svc", june(), false).await.unwrap();
    let mut changes = facts.changes;
    changes.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(
        changes,
        [
            Change::Commit {
                deployed_ms: ms("2024-06-10T10:00:00Z"),
                sha: "s1".into(),
                minutes: 60
            },
            // 30 minutes coding + 60 to merge + 60 to deploy.
            Change::PullRequest {
                deployed_ms: ms("2024-06-11T10:00:00Z"),
                minutes: 150
            },
        ]
    );
}

async fn reposts_upsert_and_keep_earlier_commit_rows(db: &Database) {
    let store = fawkes_portal::dora::store::open(db);
    store
        .save_deployment(
            "svc",
            &deployment("a", "PRODUCTION", "2024-06-10T10:00:00Z", &[("s1", None)]),
            0,
        )
        .await
        .unwrap();
    let mut later = deployment("a", "PRODUCTION", "2024-06-10T11:00:00Z", &[("s2", None)]);
    later.version = Some("v2".into());
    store.save_deployment("svc", &later, 0).await.unwrap();
    let (total, rows) = store.history("svc", None, 10).await.unwrap();
    assert_eq!(total, 1);
    assert_eq!(rows[0].version.as_deref(), Some("v2"));
    assert_eq!(rows[0].head_sha, "s2");
    let facts = store.facts("svc", june(), false).await.unwrap();
    assert_eq!(facts.deployments.len(), 1);
    assert_eq!(facts.deployments[0].finished_ms, ms("2024-06-10T11:00:00Z"));
    assert!(store.has_project("svc").await.unwrap());
    assert!(!store.has_project("other").await.unwrap());
    assert_eq!(store.projects().await.unwrap(), ["svc"]);
}

async fn closing_sets_the_resolution_once(db: &Database) {
    let store = fawkes_portal::dora::store::open(db);
    let body: IncidentWebhook = serde_json::from_value(json!({
        "issueKey": "I-1", "title": "t", "status": "TODO", "originalStatus": "open",
        "createdDate": "2024-06-10T10:00:00Z",
    }))
    .unwrap();
    store
        .save_incident("svc", &body.into_record().unwrap())
        .await
        .unwrap();
    assert!(
        store
            .close_incident("svc", "I-1", ms("2024-06-10T10:30:00Z"))
            .await
            .unwrap()
    );
    assert!(
        store
            .close_incident("svc", "I-1", ms("2024-06-10T12:00:00Z"))
            .await
            .unwrap()
    );
    let facts = store.facts("svc", june(), true).await.unwrap();
    assert_eq!(facts.restored.len(), 1);
    assert_eq!(facts.restored[0].resolution_ms, ms("2024-06-10T10:30:00Z"));
    assert_eq!(facts.restored[0].lead_time_minutes, Some(30));
    assert!(!store.close_incident("svc", "I-2", 0).await.unwrap());
    assert!(!store.close_incident("other", "I-1", 0).await.unwrap());
}

/// Runs one statement on the store's database.
async fn execute(db: &Database, statement: &str) {
    match db {
        Database::Sqlite { writer: pool, .. } => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                .execute(pool)
                .await
                .unwrap();
        }
        Database::Postgres(pool) => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                .execute(pool)
                .await
                .unwrap();
        }
    }
}

async fn count(db: &Database, query: &str) -> i64 {
    match db {
        Database::Sqlite { writer: pool, .. } => sqlx::query_scalar(sqlx::AssertSqlSafe(query))
            .fetch_one(pool)
            .await
            .unwrap(),
        Database::Postgres(pool) => sqlx::query_scalar(sqlx::AssertSqlSafe(query))
            .fetch_one(pool)
            .await
            .unwrap(),
    }
}

async fn a_failed_write_leaves_nothing_behind(db: &Database) {
    let store = fawkes_portal::dora::store::open(db);
    let at = "2024-06-10T10:00:00Z";
    // The first post makes the project known (on SQLite, later posts take the one-round-trip path).
    store
        .save_deployment(
            "svc",
            &deployment("a", "PRODUCTION", at, &[("s1", None)]),
            0,
        )
        .await
        .unwrap();
    // The commit rows insert, then the deployment upsert fails.
    execute(
        db,
        "ALTER TABLE dora_deployments RENAME TO dora_deployments_away",
    )
    .await;
    let failed = deployment("b", "PRODUCTION", at, &[("s2", None), ("s3", None)]);
    assert!(store.save_deployment("svc", &failed, 0).await.is_err());
    // Writable again at once: no transaction was left open holding the write lock.
    execute(
        db,
        "ALTER TABLE dora_deployments_away RENAME TO dora_deployments",
    )
    .await;
    let rows = "SELECT COUNT(*) FROM dora_deployment_commits WHERE deployment_id = 'b'";
    assert_eq!(
        count(db, rows).await,
        0,
        "the failed post's commit rows were rolled back"
    );
    store.save_deployment("svc", &failed, 0).await.unwrap();
    let (total, _) = store.history("svc", None, 10).await.unwrap();
    assert_eq!(total, 2);
    assert_eq!(count(db, rows).await, 2);
}

crate::store_contract!(
    a_failed_write_leaves_nothing_behind,
    facts_link_incidents_to_the_last_successful_production_deployment,
    a_change_counts_at_its_first_successful_production_deployment,
    reposts_upsert_and_keep_earlier_commit_rows,
    closing_sets_the_resolution_once,
);
