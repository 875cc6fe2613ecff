-- The DevLake plugin's data: what DevLake-compatible webhooks post, shaped for the DORA queries.
-- Times are Unix epoch milliseconds (UTC). Every table is keyed by project first, so every metric
-- query is an index range scan within one project.

-- Projects named by webhook URLs (DevLake project names).
CREATE TABLE dora_projects (
    id   INTEGER PRIMARY KEY,
    name TEXT    NOT NULL UNIQUE
);

-- One row per deployment (DevLake's cicd_deployments), as last posted.
CREATE TABLE dora_deployments (
    project_id           INTEGER NOT NULL REFERENCES dora_projects (id),
    id                   TEXT    NOT NULL,
    name                 TEXT    NOT NULL,
    display_title        TEXT,
    result               TEXT    NOT NULL,
    environment          TEXT    NOT NULL,   -- PRODUCTION | STAGING | TESTING | DEVELOPMENT
    original_environment TEXT,
    created_ms           INTEGER NOT NULL,
    started_ms           INTEGER NOT NULL,
    finished_ms          INTEGER NOT NULL,
    duration_sec         INTEGER NOT NULL,
    version              TEXT,
    triggered_by         TEXT,
    head_sha             TEXT    NOT NULL,   -- the first commit posted: the deployment's head
    head_message         TEXT,
    head_author          TEXT,
    received_ms          INTEGER NOT NULL,
    -- Latest and earliest finish of the deployment's commit rows with result SUCCESS in
    -- PRODUCTION (kept up to date on every post); NULL: not a successful production deployment.
    prod_finished_ms     INTEGER,
    prod_first_ms        INTEGER,
    PRIMARY KEY (project_id, id)
);
-- Deployments in a window (deployment frequency, change failure rate, recovery time).
CREATE INDEX dora_deployments_prod ON dora_deployments (project_id, prod_finished_ms)
    WHERE prod_finished_ms IS NOT NULL;
-- Deployment history, newest first, all environments or some.
CREATE INDEX dora_deployments_history ON dora_deployments (project_id, started_ms, id);
CREATE INDEX dora_deployments_history_env
    ON dora_deployments (project_id, environment, started_ms, id);

-- One row per (deployment, repository, commit): DevLake's cicd_deployment_commits. Rows of an
-- earlier post that a later post of the same deployment omits are kept, as in DevLake.
CREATE TABLE dora_deployment_commits (
    project_id    INTEGER NOT NULL REFERENCES dora_projects (id),
    deployment_id TEXT    NOT NULL,
    repo_url      TEXT    NOT NULL,
    commit_sha    TEXT    NOT NULL,
    repo_id       TEXT,
    ref_name      TEXT,
    commit_msg    TEXT,
    name          TEXT    NOT NULL,
    display_title TEXT,
    result        TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    environment   TEXT    NOT NULL,
    created_ms    INTEGER NOT NULL,
    started_ms    INTEGER NOT NULL,
    finished_ms   INTEGER NOT NULL,
    author        TEXT,
    authored_ms   INTEGER,
    qualifies     INTEGER NOT NULL,          -- 1: result SUCCESS in PRODUCTION (counts for DORA)
    PRIMARY KEY (project_id, deployment_id, repo_url, commit_sha)
);
-- Counting rows in a window, and an incident's last deployment before it.
CREATE INDEX dora_deployment_commits_prod ON dora_deployment_commits (project_id, finished_ms)
    WHERE qualifies = 1;
-- A commit's first successful production deployment.
CREATE INDEX dora_deployment_commits_sha
    ON dora_deployment_commits (project_id, commit_sha, started_ms) WHERE qualifies = 1;

-- Incidents (DevLake issues of type INCIDENT).
CREATE TABLE dora_incidents (
    project_id        INTEGER NOT NULL REFERENCES dora_projects (id),
    issue_key         TEXT    NOT NULL,
    title             TEXT    NOT NULL,
    status            TEXT    NOT NULL,      -- TODO | IN_PROGRESS | DONE
    original_status   TEXT    NOT NULL,
    created_ms        INTEGER NOT NULL,
    updated_ms        INTEGER,
    resolution_ms     INTEGER,
    lead_time_minutes INTEGER,
    url               TEXT,
    description       TEXT,
    priority          TEXT,
    severity          TEXT,
    component         TEXT,
    assignee_name     TEXT,
    PRIMARY KEY (project_id, issue_key)
);
CREATE INDEX dora_incidents_created ON dora_incidents (project_id, created_ms);
CREATE INDEX dora_incidents_resolved ON dora_incidents (project_id, resolution_ms)
    WHERE resolution_ms IS NOT NULL;

-- Pull requests; merged ones are changes, shipped by the first deployment of their merge commit.
CREATE TABLE dora_pull_requests (
    project_id               INTEGER NOT NULL REFERENCES dora_projects (id),
    id                       TEXT    NOT NULL,
    title                    TEXT    NOT NULL,
    pull_request_key         INTEGER NOT NULL,
    status                   TEXT,
    url                      TEXT,
    author_name              TEXT,
    created_ms               INTEGER NOT NULL,
    merged_ms                INTEGER,
    closed_ms                INTEGER,
    merge_commit_sha         TEXT,
    first_commit_authored_ms INTEGER,
    base_ref                 TEXT,
    head_ref                 TEXT,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX dora_pull_requests_merge ON dora_pull_requests (project_id, merge_commit_sha)
    WHERE merged_ms IS NOT NULL;
