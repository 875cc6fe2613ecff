//! The rows DevLake's webhook plugin writes for a [`Project`]'s posts (through webhook connection
//! `n`: scope `webhook:<n>` under `cicd_scopes`, `repos` and `boards`), and the rows its dora plugin
//! then computes: each incident's link to the project's last successful production commit row
//! finished before it, each merged pull request's cycle time and its first successful production
//! commit row (by start, then deployment id) that shipped the merge commit.

use fawkes_portal::dora::calendar::{Millis, format_timestamp};
use sqlx::{MySql, QueryBuilder};

use super::dataset::{Commit, Deployment, MINUTE, Project, short};
use crate::support::mariadb::DevLakeDb;

/// `ms` as a MySQL `DATETIME(3)` text (UTC).
pub fn datetime(ms: Millis) -> String {
    let text = format_timestamp(ms);
    let text = text.trim_end_matches('Z').replace('T', " ");
    if text.contains('.') {
        text
    } else {
        format!("{text}.000")
    }
}

/// Whole minutes from `from` to `to` rounded up; `None` when negative.
fn ceil_minutes(from: Millis, to: Millis) -> Option<i64> {
    (to >= from).then(|| (to - from + MINUTE - 1) / MINUTE)
}

/// A commit row as the dora plugin sees it.
struct Row<'a> {
    id: String,
    deployment: &'a Deployment,
    commit: &'a Commit,
}

impl Row<'_> {
    fn qualifies(&self) -> bool {
        self.commit.result == "SUCCESS" && self.deployment.environment == "PRODUCTION"
    }
}

async fn insert(db: &DevLakeDb, table: &str, columns: &[&str], rows: Vec<Vec<Option<String>>>) {
    for chunk in rows.chunks(200) {
        let mut query: QueryBuilder<MySql> = QueryBuilder::new(format!(
            "INSERT INTO {table} ({}) ",
            columns
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        query.push_values(chunk, |mut b, row| {
            for value in row {
                b.push_bind(value.clone());
            }
        });
        query.build().execute(&db.pool).await.unwrap();
    }
}

fn some(text: impl Into<String>) -> Option<String> {
    Some(text.into())
}

pub async fn write_project(db: &DevLakeDb, project: &Project, connection: usize) {
    let scope = format!("webhook:{connection}");
    let name = &project.name;
    insert(db, "projects", &["name"], vec![vec![some(name)]]).await;
    insert(
        db,
        "project_mapping",
        &["project_name", "table", "row_id"],
        ["cicd_scopes", "repos", "boards"]
            .iter()
            .map(|t| vec![some(name), some(*t), some(&scope)])
            .collect(),
    )
    .await;
    insert(db, "boards", &["id"], vec![vec![some(&scope)]]).await;

    // Deployments: the webhook plugin's rows.
    let mut rows = Vec::new();
    let mut deployment_rows = Vec::new();
    let mut commit_rows = Vec::new();
    for d in &project.deployments {
        deployment_rows.push(vec![
            some(&d.id),
            some(&scope),
            some(&d.result),
            some(&d.environment),
            some(datetime(d.started)),
            some(datetime(d.started)),
            some(datetime(d.finished)),
            some(((d.finished - d.started) / 1000).to_string()),
            some(format!("deploy to {}", d.environment)),
        ]);
        for c in &d.commits {
            let repo = c.repo_url.rsplit('/').next().unwrap_or_default();
            let id = format!("{scope}:{}:{repo}:{}", d.id, c.sha);
            commit_rows.push(vec![
                some(&id),
                some(&c.sha),
                some(&scope),
                some(&d.id),
                some(&c.result),
                some("DONE"),
                some(&d.environment),
                some(datetime(c.started)),
                some(datetime(c.started)),
                some(datetime(c.finished)),
                some(&c.repo_url),
                some(format!("change {}", short(&c.sha))),
            ]);
            rows.push(Row {
                id,
                deployment: d,
                commit: c,
            });
        }
    }
    insert(
        db,
        "cicd_deployments",
        &[
            "id",
            "cicd_scope_id",
            "result",
            "environment",
            "created_date",
            "started_date",
            "finished_date",
            "duration_sec",
            "name",
        ],
        deployment_rows,
    )
    .await;
    insert(
        db,
        "cicd_deployment_commits",
        &[
            "id",
            "commit_sha",
            "cicd_scope_id",
            "cicd_deployment_id",
            "result",
            "status",
            "environment",
            "created_date",
            "started_date",
            "finished_date",
            "repo_url",
            "commit_msg",
        ],
        commit_rows,
    )
    .await;

    // Incidents: the webhook plugin writes issues, board_issues and incidents; the dora plugin
    // links each to the project's last successful production row finished before it.
    let qualifying: Vec<&Row> = rows.iter().filter(|r| r.qualifies()).collect();
    let (mut issues, mut board_issues, mut incidents, mut links) = (vec![], vec![], vec![], vec![]);
    for i in &project.incidents {
        let id = format!("{scope}:{}", i.key);
        // DevLake's rule: a given non-zero lead time, else the minutes created to resolved.
        let lead_time = i
            .lead_time_minutes
            .filter(|m| *m != 0)
            .or_else(|| i.resolved.map(|r| (r - i.created) / MINUTE))
            .unwrap_or(0);
        let resolved = i.resolved.map(datetime);
        issues.push(vec![
            some(&id),
            some(&i.key),
            some("INCIDENT"),
            some(if i.resolved.is_some() {
                "DONE"
            } else {
                "IN_PROGRESS"
            }),
            some(datetime(i.created)),
            resolved.clone(),
            some(lead_time.to_string()),
        ]);
        board_issues.push(vec![some(&scope), some(&id)]);
        incidents.push(vec![
            some(&id),
            some(&i.key),
            some(datetime(i.created)),
            resolved,
            some(lead_time.to_string()),
            some("boards"),
            some(&scope),
        ]);
        let linked = qualifying
            .iter()
            .filter(|r| r.commit.finished < i.created)
            .max_by_key(|r| r.commit.finished);
        if let Some(row) = linked {
            links.push(vec![some(&id), some(name), some(&row.deployment.id)]);
        }
    }
    insert(
        db,
        "issues",
        &[
            "id",
            "issue_key",
            "type",
            "status",
            "created_date",
            "resolution_date",
            "lead_time_minutes",
        ],
        issues,
    )
    .await;
    insert(db, "board_issues", &["board_id", "issue_id"], board_issues).await;
    insert(
        db,
        "incidents",
        &[
            "id",
            "incident_key",
            "created_date",
            "resolution_date",
            "lead_time_minutes",
            "table",
            "scope_id",
        ],
        incidents,
    )
    .await;
    insert(
        db,
        "project_incident_deployment_relationships",
        &["id", "project_name", "deployment_id"],
        links,
    )
    .await;

    // Pull requests, and the dora plugin's cycle time and deployment link: the first successful
    // production row (by start, then deployment id) that shipped the merge commit.
    let (mut prs, mut metrics) = (vec![], vec![]);
    for pr in &project.pull_requests {
        let id = format!("{scope}:{}", pr.key);
        prs.push(vec![
            some(&id),
            some(&scope),
            some(if pr.merged.is_some() {
                "MERGED"
            } else {
                "OPEN"
            }),
            some(format!("change {}", pr.key)),
            some(pr.key.to_string()),
            some(datetime(pr.created)),
            pr.merged.map(datetime),
            pr.merge_sha.clone(),
        ]);
        let (Some(merged), Some(sha)) = (pr.merged, &pr.merge_sha) else {
            continue;
        };
        let first = qualifying
            .iter()
            .filter(|r| &r.commit.sha == sha)
            .min_by(|a, b| {
                (a.commit.started, &a.deployment.id).cmp(&(b.commit.started, &b.deployment.id))
            });
        let Some(row) = first else {
            continue;
        };
        let deployed = row.commit.finished;
        let cycle: i64 = [
            pr.first_commit.and_then(|f| ceil_minutes(f, pr.created)),
            ceil_minutes(pr.created, merged),
            ceil_minutes(merged, deployed),
        ]
        .into_iter()
        .flatten()
        .sum();
        metrics.push(vec![
            some(&id),
            some(name),
            some(&row.id),
            some(cycle.to_string()),
            some(datetime(pr.created)),
            some(datetime(merged)),
            some(datetime(deployed)),
        ]);
    }
    insert(
        db,
        "pull_requests",
        &[
            "id",
            "base_repo_id",
            "status",
            "title",
            "pull_request_key",
            "created_date",
            "merged_date",
            "merge_commit_sha",
        ],
        prs,
    )
    .await;
    insert(
        db,
        "project_pr_metrics",
        &[
            "id",
            "project_name",
            "deployment_commit_id",
            "pr_cycle_time",
            "pr_created_date",
            "pr_merged_date",
            "pr_deployed_date",
        ],
        metrics,
    )
    .await;
}
