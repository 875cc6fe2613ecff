-- Che launcher: which principal a workspaces namespace belongs to. The first principal to use a
-- namespace claims it; any other is refused it, whatever the namespace template maps them to (a
-- changed template, or two hashed user names that collide). `username` is the principal's Che
-- user name (the entity name of user:default/<name>, else the kind and subject), as written into
-- the namespace's che.eclipse.org/username annotation on a cluster. Rows are never updated: an
-- administrator deletes one to hand a namespace to someone else.
CREATE TABLE workspace_namespaces (
    namespace     TEXT PRIMARY KEY,
    username      TEXT NOT NULL,
    claimed_at_ms BIGINT NOT NULL
);
