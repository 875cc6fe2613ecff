-- Che launcher, simulated driver: workspaces kept in the database when no Kubernetes cluster is
-- configured. (With a cluster, DevWorkspaces are the record and nothing is stored here.)
CREATE TABLE simulated_workspaces (
    id              TEXT PRIMARY KEY,      -- ours: workspace-<12 hex>
    owner           TEXT NOT NULL,         -- principal subject, e.g. user:default/jdoe
    namespace       TEXT NOT NULL,
    name            TEXT NOT NULL,         -- DNS label, unique in its namespace
    devfile_url     TEXT NOT NULL,
    devfile_name    TEXT NOT NULL,
    devfile_version TEXT NOT NULL,
    started         BOOLEAN NOT NULL,      -- spec.started: true after create/start, false after stop
    changed_at_ms   BIGINT NOT NULL,       -- epoch ms of the last start or stop
    created_at_ms   BIGINT NOT NULL,
    last_used_ms    BIGINT NOT NULL,       -- as che.eclipse.org/last-updated-timestamp
    UNIQUE (namespace, name)
);
CREATE INDEX simulated_workspaces_owner ON simulated_workspaces (owner);
