-- An entity's processed form (as read and validated, about 650 bytes) moves to a table of its
-- own: it is read only to re-serve an entity, and beside the served form it made an entity row
-- just over half a 4 KiB page, so each row took a page of its own. Every row is kept.

CREATE TABLE catalog_processed (
    entity_id INTEGER PRIMARY KEY REFERENCES catalog_entities (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    processed TEXT NOT NULL
);
INSERT INTO catalog_processed (entity_id, processed) SELECT id, processed FROM catalog_entities;
ALTER TABLE catalog_entities DROP COLUMN processed;
