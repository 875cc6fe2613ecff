-- Search and relation rows point at their entity by an integer id instead of its 36-character
-- uid, and a search row keeps its original value only where it differs from the lower-cased one
-- (NULL means the same). Ingestion writes about 28 search rows per entity, each stored three
-- times (the table and two indexes): these rows were half of the database's bytes and most of
-- the time it took to write them. Tables are rebuilt (SQLite cannot change a primary key);
-- every row is kept.

CREATE TABLE catalog_entities_new (
    id             INTEGER PRIMARY KEY,
    uid            TEXT NOT NULL UNIQUE,
    entity_ref     TEXT NOT NULL UNIQUE,
    location_id    TEXT NOT NULL REFERENCES catalog_locations (id) ON DELETE CASCADE,
    processed_hash TEXT NOT NULL,
    processed      TEXT NOT NULL,
    body           TEXT NOT NULL,
    etag           TEXT NOT NULL
);
INSERT INTO catalog_entities_new (uid, entity_ref, location_id, processed_hash, processed, body, etag)
    SELECT uid, entity_ref, location_id, processed_hash, processed, body, etag FROM catalog_entities
    ORDER BY uid;

CREATE TABLE catalog_relations_new (
    originator_id INTEGER NOT NULL REFERENCES catalog_entities_new (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    source_ref    TEXT NOT NULL,
    type          TEXT NOT NULL,
    target_ref    TEXT NOT NULL
);
INSERT INTO catalog_relations_new (originator_id, source_ref, type, target_ref)
    SELECT e.id, r.source_ref, r.type, r.target_ref
    FROM catalog_relations r JOIN catalog_entities_new e ON e.uid = r.originator_uid;

CREATE TABLE catalog_search_new (
    entity_id      INTEGER NOT NULL REFERENCES catalog_entities_new (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    key            TEXT NOT NULL,
    value          TEXT,
    original_value TEXT
);
INSERT INTO catalog_search_new (entity_id, key, value, original_value)
    SELECT e.id, s.key, s.value, NULLIF(s.original_value, s.value)
    FROM catalog_search s JOIN catalog_entities_new e ON e.uid = s.entity_uid;

DROP TABLE catalog_search;
DROP TABLE catalog_relations;
DROP TABLE catalog_entities;
ALTER TABLE catalog_entities_new RENAME TO catalog_entities;
ALTER TABLE catalog_relations_new RENAME TO catalog_relations;
ALTER TABLE catalog_search_new RENAME TO catalog_search;
CREATE INDEX catalog_entities_location ON catalog_entities (location_id);
CREATE INDEX catalog_relations_source ON catalog_relations (source_ref);
CREATE INDEX catalog_relations_originator ON catalog_relations (originator_id);
CREATE INDEX catalog_search_key_value ON catalog_search (key, value, entity_id);
CREATE INDEX catalog_search_entity ON catalog_search (entity_id, key);
