-- The software catalog (src/catalog). Times are epoch milliseconds; JSON is TEXT.

-- Registered locations: one row per (type, target); `errors` is a JSON array of messages from the
-- last processing (nested locations included); `validators` is a JSON object of every file read
-- (`<type>:<target>` -> {etag, lastModified}) for conditional re-reads.
CREATE TABLE catalog_locations (
    id                TEXT PRIMARY KEY,
    type              TEXT NOT NULL,
    target            TEXT NOT NULL,
    status            TEXT NOT NULL,
    errors            TEXT NOT NULL DEFAULT '[]',
    validators        TEXT NOT NULL DEFAULT '{}',
    created_at        BIGINT NOT NULL,
    last_refreshed_at BIGINT,
    next_refresh_at   BIGINT NOT NULL,
    UNIQUE (type, target)
);
CREATE INDEX catalog_locations_due ON catalog_locations (next_refresh_at);

-- Entities, owned by the registered location whose processing produced them. `processed` is the
-- entity as read and validated; `body` the entity as served (uid, etag, relations added).
CREATE TABLE catalog_entities (
    uid            TEXT PRIMARY KEY,
    entity_ref     TEXT NOT NULL UNIQUE,
    location_id    TEXT NOT NULL REFERENCES catalog_locations (id) ON DELETE CASCADE,
    processed_hash TEXT NOT NULL,
    processed      TEXT NOT NULL,
    body           TEXT NOT NULL,
    etag           TEXT NOT NULL
);
CREATE INDEX catalog_entities_location ON catalog_entities (location_id);

-- Relation rows, both directions, kept with the entity that produced them.
CREATE TABLE catalog_relations (
    originator_uid TEXT NOT NULL REFERENCES catalog_entities (uid) ON DELETE CASCADE,
    source_ref     TEXT NOT NULL,
    type           TEXT NOT NULL,
    target_ref     TEXT NOT NULL
);
CREATE INDEX catalog_relations_source ON catalog_relations (source_ref);
CREATE INDEX catalog_relations_originator ON catalog_relations (originator_uid);

-- The flattened, lower-cased key/value rows every filter, order and facet runs on.
CREATE TABLE catalog_search (
    entity_uid     TEXT NOT NULL REFERENCES catalog_entities (uid) ON DELETE CASCADE,
    key            TEXT NOT NULL,
    value          TEXT,
    original_value TEXT
);
CREATE INDEX catalog_search_key_value ON catalog_search (key, value, entity_uid);
CREATE INDEX catalog_search_entity ON catalog_search (entity_uid, key);
