-- Search and relation rows point at their entity by an integer id instead of its 36-character
-- uid, and a search row keeps its original value only where it differs from the lower-cased one
-- (NULL means the same), as on SQLite. Ids come from a sequence, as replicas write at once.
-- Every row is kept.

-- Deferred entity checks would still be pending when the tables are altered below.
SET CONSTRAINTS ALL IMMEDIATE;

CREATE SEQUENCE catalog_entity_ids;
ALTER TABLE catalog_entities ADD COLUMN id BIGINT NOT NULL DEFAULT nextval('catalog_entity_ids');
ALTER SEQUENCE catalog_entity_ids OWNED BY catalog_entities.id;

-- Indexes go first so the one rewrite of each table does not maintain them.
DROP INDEX catalog_search_key_value;
DROP INDEX catalog_search_entity;
ALTER TABLE catalog_search ADD COLUMN entity_id BIGINT;
UPDATE catalog_search s SET entity_id = e.id, original_value = NULLIF(s.original_value, s.value)
    FROM catalog_entities e WHERE e.uid = s.entity_uid;
ALTER TABLE catalog_search DROP COLUMN entity_uid;
ALTER TABLE catalog_search ALTER COLUMN entity_id SET NOT NULL;

DROP INDEX catalog_relations_originator;
ALTER TABLE catalog_relations ADD COLUMN originator_id BIGINT;
UPDATE catalog_relations r SET originator_id = e.id FROM catalog_entities e WHERE e.uid = r.originator_uid;
ALTER TABLE catalog_relations DROP COLUMN originator_uid;
ALTER TABLE catalog_relations ALTER COLUMN originator_id SET NOT NULL;

ALTER TABLE catalog_entities DROP CONSTRAINT catalog_entities_pkey;
ALTER TABLE catalog_entities ADD PRIMARY KEY (id);
ALTER TABLE catalog_entities ADD CONSTRAINT catalog_entities_uid_key UNIQUE (uid);

ALTER TABLE catalog_search ADD CONSTRAINT catalog_search_entity_id_fkey FOREIGN KEY (entity_id)
    REFERENCES catalog_entities (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE catalog_relations ADD CONSTRAINT catalog_relations_originator_id_fkey FOREIGN KEY (originator_id)
    REFERENCES catalog_entities (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX catalog_search_key_value ON catalog_search (key, value, entity_id);
CREATE INDEX catalog_search_entity ON catalog_search (entity_id, key);
CREATE INDEX catalog_relations_originator ON catalog_relations (originator_id);
