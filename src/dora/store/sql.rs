//! The DevLake store's statements, shared by SQLite and PostgreSQL (sqlx binds `$N` on both):
//! each SQL text, and the one function that binds it.

use crate::db::sql::{Param, SqlBuilder, Statement};
use crate::dora::calendar::Millis;
use crate::dora::model::{CommitRecord, DeploymentRecord, IncidentRecord, PullRequestRecord};

pub(crate) const PROJECT_ID: &str = "SELECT id FROM dora_projects WHERE name = $1";
pub(crate) const UPSERT_PROJECT: &str = "INSERT INTO dora_projects (name) VALUES ($1) \
     ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id";
pub(crate) const ALL_PROJECTS: &str = "SELECT name FROM dora_projects ORDER BY name";

pub(crate) fn project_id(name: &str) -> Statement {
    Statement::new(PROJECT_ID).bind(name)
}

pub(crate) fn upsert_project(name: &str) -> Statement {
    Statement::new(UPSERT_PROJECT).bind(name)
}

pub(crate) fn all_projects() -> Statement {
    Statement::new(ALL_PROJECTS)
}

// A multi-row insert: `INSERT_COMMITS`, then `VALUES (...), (...)`, then `ON_COMMIT_CONFLICT`.
pub(crate) const INSERT_COMMITS: &str = "INSERT INTO dora_deployment_commits \
     (project_id, deployment_id, repo_url, commit_sha, repo_id, ref_name, commit_msg, name, \
      display_title, result, status, environment, created_ms, started_ms, finished_ms, author, \
      authored_ms, qualifies) ";
pub(crate) const ON_COMMIT_CONFLICT: &str = " ON CONFLICT (project_id, deployment_id, repo_url, commit_sha) \
     DO UPDATE SET \
     repo_id = excluded.repo_id, ref_name = excluded.ref_name, commit_msg = excluded.commit_msg, \
     name = excluded.name, display_title = excluded.display_title, result = excluded.result, \
     status = excluded.status, environment = excluded.environment, \
     created_ms = excluded.created_ms, started_ms = excluded.started_ms, \
     finished_ms = excluded.finished_ms, author = excluded.author, \
     authored_ms = excluded.authored_ms, qualifies = excluded.qualifies";
/// Commit rows per insert statement (18 parameters each, under every backend's limit).
pub(crate) const COMMITS_PER_INSERT: usize = 500;

// The deployment's successful production finish (latest and earliest) comes from all its commit
// rows, including those of earlier posts.
pub(crate) const UPSERT_DEPLOYMENT: &str = "INSERT INTO dora_deployments \
     (project_id, id, name, display_title, result, environment, original_environment, \
      created_ms, started_ms, finished_ms, duration_sec, version, triggered_by, head_sha, \
      head_message, head_author, received_ms, prod_finished_ms, prod_first_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
      (SELECT MAX(finished_ms) FROM dora_deployment_commits \
       WHERE project_id = $1 AND deployment_id = $2 AND qualifies = 1), \
      (SELECT MIN(finished_ms) FROM dora_deployment_commits \
       WHERE project_id = $1 AND deployment_id = $2 AND qualifies = 1)) \
     ON CONFLICT (project_id, id) DO UPDATE SET \
     name = excluded.name, display_title = excluded.display_title, result = excluded.result, \
     environment = excluded.environment, original_environment = excluded.original_environment, \
     created_ms = excluded.created_ms, started_ms = excluded.started_ms, \
     finished_ms = excluded.finished_ms, duration_sec = excluded.duration_sec, \
     version = excluded.version, triggered_by = excluded.triggered_by, \
     head_sha = excluded.head_sha, head_message = excluded.head_message, \
     head_author = excluded.head_author, received_ms = excluded.received_ms, \
     prod_finished_ms = excluded.prod_finished_ms, prod_first_ms = excluded.prod_first_ms";

/// Parameters of one commit row besides the project and deployment ids it shares as `$1`, `$2`.
const COMMIT_PARAMS: usize = 16;

/// `$1..$17` of [`UPSERT_DEPLOYMENT`]: the project id, the deployment id, ... the time received.
fn deployment_params(project_id: i64, record: &DeploymentRecord, now_ms: Millis) -> Vec<Param> {
    let head = &record.commits[0];
    vec![
        project_id.into(),
        (&record.id).into(),
        (&record.name).into(),
        (&record.display_title).into(),
        (&record.result).into(),
        (&record.environment).into(),
        (&record.original_environment).into(),
        record.created_ms.into(),
        record.started_ms.into(),
        record.finished_ms.into(),
        record.duration_sec.into(),
        (&record.version).into(),
        (&record.triggered_by).into(),
        (&head.commit_sha).into(),
        (&head.commit_msg).into(),
        (&head.author).into(),
        now_ms.into(),
    ]
}

/// A commit row's values in the column order of [`INSERT_COMMITS`] after `project_id,
/// deployment_id`.
fn commit_params(c: &CommitRecord, environment: &str) -> [Param; COMMIT_PARAMS] {
    [
        (&c.repo_url).into(),
        (&c.commit_sha).into(),
        (&c.repo_id).into(),
        (&c.ref_name).into(),
        (&c.commit_msg).into(),
        (&c.name).into(),
        (&c.display_title).into(),
        (&c.result).into(),
        (&c.status).into(),
        environment.into(),
        c.created_ms.into(),
        c.started_ms.into(),
        c.finished_ms.into(),
        (&c.author).into(),
        c.authored_ms.into(),
        i32::from(c.qualifies(environment)).into(),
    ]
}

/// `INSERT_COMMITS VALUES ($1, $2, ...), ... ON_COMMIT_CONFLICT` for `commits`, where `$1` and
/// `$2` are the project and deployment ids.
fn push_commit_rows(sql: &mut SqlBuilder, record: &DeploymentRecord, commits: &[CommitRecord]) {
    sql.push(INSERT_COMMITS).push("VALUES ");
    for (i, c) in commits.iter().enumerate() {
        sql.push(if i > 0 { ", ($1, $2" } else { "($1, $2" });
        for param in commit_params(c, &record.environment) {
            sql.push(", ").push_bind(param);
        }
        sql.push(")");
    }
    sql.push(ON_COMMIT_CONFLICT);
}

/// Up to [`COMMITS_PER_INSERT`] commit rows of the deployment.
pub(crate) fn insert_commits(
    project_id: i64,
    record: &DeploymentRecord,
    commits: &[CommitRecord],
) -> Statement {
    let mut sql = SqlBuilder::default();
    sql.bind_numbered([project_id.into(), (&record.id).into()]);
    push_commit_rows(&mut sql, record, commits);
    sql.finish()
}

pub(crate) fn upsert_deployment(
    project_id: i64,
    record: &DeploymentRecord,
    now_ms: Millis,
) -> Statement {
    let mut sql = SqlBuilder::new(UPSERT_DEPLOYMENT);
    sql.bind_numbered(deployment_params(project_id, record, now_ms));
    sql.finish()
}

/// SQLite only: the deployment with its commit rows (at most [`COMMITS_PER_INSERT`]) as one
/// script, one round trip to the connection's thread instead of four: `BEGIN IMMEDIATE`, the
/// commit rows, the deployment, `COMMIT`. Parameters: the deployment's `$1..$17`, then each
/// commit's values. The caller rolls back when a statement fails (the script stops at the failing
/// statement, inside the transaction).
pub(crate) fn sqlite_deployment_script(
    project_id: i64,
    record: &DeploymentRecord,
    now_ms: Millis,
) -> Statement {
    let mut sql = SqlBuilder::new("BEGIN IMMEDIATE; ");
    sql.bind_numbered(deployment_params(project_id, record, now_ms));
    push_commit_rows(&mut sql, record, &record.commits);
    sql.push("; ").push(UPSERT_DEPLOYMENT).push("; COMMIT");
    sql.finish()
}

pub(crate) const UPSERT_INCIDENT: &str = "INSERT INTO dora_incidents \
     (project_id, issue_key, title, status, original_status, created_ms, updated_ms, \
      resolution_ms, lead_time_minutes, url, description, priority, severity, component, \
      assignee_name) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
     ON CONFLICT (project_id, issue_key) DO UPDATE SET \
     title = excluded.title, status = excluded.status, original_status = excluded.original_status, \
     created_ms = excluded.created_ms, updated_ms = excluded.updated_ms, \
     resolution_ms = excluded.resolution_ms, lead_time_minutes = excluded.lead_time_minutes, \
     url = excluded.url, description = excluded.description, priority = excluded.priority, \
     severity = excluded.severity, component = excluded.component, \
     assignee_name = excluded.assignee_name";

pub(crate) fn upsert_incident(project_id: i64, r: &IncidentRecord) -> Statement {
    Statement::new(UPSERT_INCIDENT)
        .bind(project_id)
        .bind(&r.issue_key)
        .bind(&r.title)
        .bind(&r.status)
        .bind(&r.original_status)
        .bind(r.created_ms)
        .bind(r.updated_ms)
        .bind(r.resolution_ms)
        .bind(r.lead_time_minutes)
        .bind(&r.url)
        .bind(&r.description)
        .bind(&r.priority)
        .bind(&r.severity)
        .bind(&r.component)
        .bind(&r.assignee_name)
}

// As DevLake's fixed close (PR #8919): resolved now unless already resolved; the lead time
// recomputed when it was not given.
pub(crate) const CLOSE_INCIDENT: &str = "UPDATE dora_incidents SET status = 'DONE', original_status = '', \
     resolution_ms = COALESCE(resolution_ms, $3), \
     lead_time_minutes = CASE WHEN lead_time_minutes IS NULL OR lead_time_minutes = 0 \
       THEN (COALESCE(resolution_ms, $3) - created_ms) / 60000 ELSE lead_time_minutes END \
     WHERE project_id = (SELECT id FROM dora_projects WHERE name = $1) AND issue_key = $2";

pub(crate) fn close_incident(project: &str, issue_key: &str, now_ms: Millis) -> Statement {
    Statement::new(CLOSE_INCIDENT)
        .bind(project)
        .bind(issue_key)
        .bind(now_ms)
}

pub(crate) const UPSERT_PULL_REQUEST: &str = "INSERT INTO dora_pull_requests \
     (project_id, id, title, pull_request_key, status, url, author_name, created_ms, merged_ms, \
      closed_ms, merge_commit_sha, first_commit_authored_ms, base_ref, head_ref) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
     ON CONFLICT (project_id, id) DO UPDATE SET \
     title = excluded.title, pull_request_key = excluded.pull_request_key, \
     status = excluded.status, url = excluded.url, author_name = excluded.author_name, \
     created_ms = excluded.created_ms, merged_ms = excluded.merged_ms, \
     closed_ms = excluded.closed_ms, merge_commit_sha = excluded.merge_commit_sha, \
     first_commit_authored_ms = excluded.first_commit_authored_ms, \
     base_ref = excluded.base_ref, head_ref = excluded.head_ref";

pub(crate) fn upsert_pull_request(project_id: i64, r: &PullRequestRecord) -> Statement {
    Statement::new(UPSERT_PULL_REQUEST)
        .bind(project_id)
        .bind(&r.id)
        .bind(&r.title)
        .bind(r.pull_request_key)
        .bind(&r.status)
        .bind(&r.url)
        .bind(&r.author_name)
        .bind(r.created_ms)
        .bind(r.merged_ms)
        .bind(r.closed_ms)
        .bind(&r.merge_commit_sha)
        .bind(r.first_commit_authored_ms)
        .bind(&r.base_ref)
        .bind(&r.head_ref)
}

// Whether the project ever received a deployment, and an incident (1 or 0 each).
pub(crate) const ACTIVITY: &str = "SELECT \
     (SELECT COUNT(*) FROM (SELECT 1 FROM dora_deployments WHERE project_id = $1 LIMIT 1) AS any_deployment), \
     (SELECT COUNT(*) FROM (SELECT 1 FROM dora_incidents WHERE project_id = $1 LIMIT 1) AS any_incident)";

// Successful production deployments that finished in the range (`docs/DORA.md`, which deployments count).
pub(crate) const PROD_DEPLOYMENTS: &str = "SELECT id, prod_finished_ms, prod_first_ms FROM dora_deployments \
     WHERE project_id = $1 AND prod_finished_ms BETWEEN $2 AND $3";

// Each incident created after `$2` with the deployment of the project's last successful
// production commit row that finished before the incident was created (`docs/DORA.md`, change failure rate).
pub(crate) const LINKED_INCIDENTS: &str = "SELECT i.resolution_ms, \
     (SELECT c.deployment_id FROM dora_deployment_commits c \
      WHERE c.project_id = i.project_id AND c.qualifies = 1 AND c.finished_ms < i.created_ms \
      ORDER BY c.finished_ms DESC LIMIT 1) AS deployment_id \
     FROM dora_incidents i WHERE i.project_id = $1 AND i.created_ms > $2";

pub(crate) const RESTORED_INCIDENTS: &str = "SELECT resolution_ms, lead_time_minutes FROM dora_incidents \
     WHERE project_id = $1 AND resolution_ms BETWEEN $2 AND $3";

// A commit row is the first to ship its commit when no successful production row of the project
// with the same commit started earlier (or at the same time, in a deployment with a smaller id).
macro_rules! first_deployed {
    () => {
        "c.project_id = $1 AND c.qualifies = 1 AND c.finished_ms BETWEEN $2 AND $3 \
         AND NOT EXISTS (SELECT 1 FROM dora_deployment_commits e \
           WHERE e.project_id = c.project_id AND e.commit_sha = c.commit_sha AND e.qualifies = 1 \
           AND (e.started_ms < c.started_ms \
                OR (e.started_ms = c.started_ms AND e.deployment_id < c.deployment_id)))"
    };
}

// Merged pull requests shipped by a first-deployed commit row that finished in the range.
pub(crate) const PULL_REQUEST_CHANGES: &str = concat!(
    "SELECT c.finished_ms, p.created_ms, p.merged_ms, p.first_commit_authored_ms \
     FROM dora_deployment_commits c \
     JOIN dora_pull_requests p ON p.project_id = c.project_id \
       AND p.merge_commit_sha = c.commit_sha AND p.merged_ms IS NOT NULL \
     WHERE ",
    first_deployed!()
);

// First-deployed commit rows with an authored date that finished in the range.
pub(crate) const COMMIT_CHANGES: &str = concat!(
    "SELECT c.commit_sha, c.finished_ms, c.authored_ms FROM dora_deployment_commits c \
     WHERE c.authored_ms IS NOT NULL AND ",
    first_deployed!()
);

pub(crate) const HISTORY_ALL: &str = "SELECT id, version, environment, result, started_ms, finished_ms, \
     duration_sec, triggered_by, head_sha, head_message, head_author FROM dora_deployments \
     WHERE project_id = $1 ORDER BY started_ms DESC, id DESC LIMIT $2";
pub(crate) const HISTORY_IN: &str = "SELECT id, version, environment, result, started_ms, finished_ms, \
     duration_sec, triggered_by, head_sha, head_message, head_author FROM dora_deployments \
     WHERE project_id = $1 AND environment IN ($2, $3) ORDER BY started_ms DESC, id DESC LIMIT $4";
pub(crate) const COUNT_ALL: &str = "SELECT COUNT(*) FROM dora_deployments WHERE project_id = $1";
pub(crate) const COUNT_IN: &str =
    "SELECT COUNT(*) FROM dora_deployments WHERE project_id = $1 AND environment IN ($2, $3)";

/// Whether the project ever received a deployment, and an incident.
pub(crate) fn activity(project_id: i64) -> Statement {
    Statement::new(ACTIVITY).bind(project_id)
}

/// `(id, prod_finished_ms, prod_first_ms)` of the production deployments in `from..=to`.
pub(crate) fn prod_deployments(project_id: i64, from_ms: Millis, to_ms: Millis) -> Statement {
    Statement::new(PROD_DEPLOYMENTS)
        .bind(project_id)
        .bind(from_ms)
        .bind(to_ms)
}

/// `(resolution_ms, deployment id)` of incidents created after `after_ms`.
pub(crate) fn linked_incidents(project_id: i64, after_ms: Millis) -> Statement {
    Statement::new(LINKED_INCIDENTS)
        .bind(project_id)
        .bind(after_ms)
}

/// `(resolution_ms, lead_time_minutes)` of incidents resolved in `from..=to`.
pub(crate) fn restored_incidents(project_id: i64, from_ms: Millis, to_ms: Millis) -> Statement {
    Statement::new(RESTORED_INCIDENTS)
        .bind(project_id)
        .bind(from_ms)
        .bind(to_ms)
}

/// `(finished, created, merged, first commit authored)` of pull requests shipped in `from..=to`.
pub(crate) fn pull_request_changes(project_id: i64, from_ms: Millis, to_ms: Millis) -> Statement {
    Statement::new(PULL_REQUEST_CHANGES)
        .bind(project_id)
        .bind(from_ms)
        .bind(to_ms)
}

/// `(sha, finished, authored)` of commits first shipped in `from..=to`.
pub(crate) fn commit_changes(project_id: i64, from_ms: Millis, to_ms: Millis) -> Statement {
    Statement::new(COMMIT_CHANGES)
        .bind(project_id)
        .bind(from_ms)
        .bind(to_ms)
}

/// The history's total and newest `limit` rows, in every environment or in one or two.
pub(crate) fn history(
    project_id: i64,
    environments: Option<&[&str]>,
    limit: i64,
) -> (Statement, Statement) {
    match environments {
        None => (
            Statement::new(COUNT_ALL).bind(project_id),
            Statement::new(HISTORY_ALL).bind(project_id).bind(limit),
        ),
        Some(envs) => {
            let (first, second) = (envs[0], envs.get(1).copied().unwrap_or(envs[0]));
            (
                Statement::new(COUNT_IN)
                    .bind(project_id)
                    .bind(first)
                    .bind(second),
                Statement::new(HISTORY_IN)
                    .bind(project_id)
                    .bind(first)
                    .bind(second)
                    .bind(limit),
            )
        }
    }
}
