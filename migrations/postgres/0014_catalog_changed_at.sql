-- Catalog: when each entity's served form last changed (milliseconds since the Unix epoch), as
-- Backstage's final_entities.last_updated_at: set when an entity is added and whenever what is
-- served for it (its body, relations included) changes; an unchanged refresh leaves it. The
-- home page lists the entities changed last. Entities stored before this column count as
-- changed now.
ALTER TABLE catalog_entities ADD COLUMN changed_at BIGINT NOT NULL DEFAULT 0;
UPDATE catalog_entities SET changed_at = CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT);
CREATE INDEX catalog_entities_changed ON catalog_entities (changed_at, id);
