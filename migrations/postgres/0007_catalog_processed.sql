-- An entity's processed form moves to a table of its own, as on SQLite (where it made an entity
-- row take a page of its own). Every row is kept.

-- Deferred entity checks would still be pending when catalog_entities is altered below.
SET CONSTRAINTS ALL IMMEDIATE;

CREATE TABLE catalog_processed (
    entity_id BIGINT PRIMARY KEY REFERENCES catalog_entities (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    processed TEXT NOT NULL
);
INSERT INTO catalog_processed (entity_id, processed) SELECT id, processed FROM catalog_entities;
ALTER TABLE catalog_entities DROP COLUMN processed;
