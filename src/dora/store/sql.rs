//! The DevLake store's SQL, shared by SQLite and PostgreSQL (sqlx binds `$N` on both).

pub(crate) const PROJECT_ID: &str = "SELECT id FROM dora_projects WHERE name = $1";
pub(crate) const UPSERT_PROJECT: &str = "INSERT INTO dora_projects (name) VALUES ($1) \
     ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id";
pub(crate) const ALL_PROJECTS: &str = "SELECT name FROM dora_projects ORDER BY name";

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

/// Parameters of [`UPSERT_DEPLOYMENT`] (`$1` project id, `$2` deployment id, ... `$17`).
pub(crate) const DEPLOYMENT_PARAMS: usize = 17;
/// Parameters of one commit row besides the project and deployment ids it shares as `$1`, `$2`.
pub(crate) const COMMIT_PARAMS: usize = 16;

/// SQLite only: a deployment with `commits` commit rows as one script (one round trip to the
/// connection's thread instead of four): `BEGIN IMMEDIATE`, the commit rows, the deployment,
/// `COMMIT`. Parameters: the deployment's `$1..$17`, then each commit's 16 values in the column
/// order of [`INSERT_COMMITS`] after `project_id, deployment_id`. The caller rolls back when a
/// statement fails (the script stops at the failing statement, inside the transaction).
pub(crate) fn sqlite_deployment_script(commits: usize) -> String {
    let mut script = String::from("BEGIN IMMEDIATE; ");
    script.push_str(INSERT_COMMITS);
    script.push_str("VALUES ");
    for c in 0..commits {
        if c > 0 {
            script.push_str(", ");
        }
        script.push_str("($1, $2");
        let first = DEPLOYMENT_PARAMS + 1 + c * COMMIT_PARAMS;
        for n in first..first + COMMIT_PARAMS {
            script.push_str(&format!(", ${n}"));
        }
        script.push(')');
    }
    script.push_str(ON_COMMIT_CONFLICT);
    script.push_str("; ");
    script.push_str(UPSERT_DEPLOYMENT);
    script.push_str("; COMMIT");
    script
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

// As DevLake's fixed close (PR #8919): resolved now unless already resolved; the lead time
// recomputed when it was not given.
pub(crate) const CLOSE_INCIDENT: &str = "UPDATE dora_incidents SET status = 'DONE', original_status = '', \
     resolution_ms = COALESCE(resolution_ms, $3), \
     lead_time_minutes = CASE WHEN lead_time_minutes IS NULL OR lead_time_minutes = 0 \
       THEN (COALESCE(resolution_ms, $3) - created_ms) / 60000 ELSE lead_time_minutes END \
     WHERE project_id = (SELECT id FROM dora_projects WHERE name = $1) AND issue_key = $2";

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

// Whether the project ever received a deployment, and an incident (1 or 0 each).
pub(crate) const ACTIVITY: &str = "SELECT \
     (SELECT COUNT(*) FROM (SELECT 1 FROM dora_deployments WHERE project_id = $1 LIMIT 1) AS any_deployment), \
     (SELECT COUNT(*) FROM (SELECT 1 FROM dora_incidents WHERE project_id = $1 LIMIT 1) AS any_incident)";

// Successful production deployments that finished in the range (reference §3).
pub(crate) const PROD_DEPLOYMENTS: &str = "SELECT id, prod_finished_ms, prod_first_ms FROM dora_deployments \
     WHERE project_id = $1 AND prod_finished_ms BETWEEN $2 AND $3";

// Each incident created after `$2` with the deployment of the project's last successful
// production commit row that finished before the incident was created (reference §6).
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
