-- Relation and search rows check their entity when the transaction commits instead of after every
-- statement, as on SQLite (where it lets multi-row inserts skip the statement journal); ON DELETE
-- CASCADE still acts at once.
ALTER TABLE catalog_relations ALTER CONSTRAINT catalog_relations_originator_uid_fkey DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE catalog_search ALTER CONSTRAINT catalog_search_entity_uid_fkey DEFERRABLE INITIALLY DEFERRED;
