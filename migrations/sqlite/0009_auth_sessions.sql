-- Browser sessions of the web UI (src/auth/session.rs). The session cookie holds a random token;
-- only its SHA-256 is stored here, so reading this table signs no one in. `csrf_token` is the
-- session's token for form posts. Times are epoch milliseconds.
CREATE TABLE auth_sessions (
    token_hash    TEXT   NOT NULL PRIMARY KEY,
    subject       TEXT   NOT NULL,   -- the principal's subject, e.g. user:default/jdoe
    display_name  TEXT   NOT NULL,
    provider      TEXT   NOT NULL,   -- guest, oidc or github
    csrf_token    TEXT   NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE INDEX auth_sessions_expiry ON auth_sessions (expires_at_ms);

-- Sign-ins under way with a provider: the `state` sent to it, with the PKCE verifier and the
-- nonce kept on the server (never in the browser), until the callback takes the row or it expires.
CREATE TABLE auth_login_states (
    state         TEXT   NOT NULL PRIMARY KEY,
    provider      TEXT   NOT NULL,
    verifier      TEXT   NOT NULL,
    nonce         TEXT   NOT NULL,
    return_to     TEXT   NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE INDEX auth_login_states_expiry ON auth_login_states (expires_at_ms);
