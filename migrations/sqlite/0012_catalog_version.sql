-- The catalog's version, one row: every write transaction that changes entities adds one to it
-- before it commits. A read made of several transactions (the pages of a streamed list, each
-- read on its own so no connection waits for a slow client) reads it with each page and so
-- knows whether all its pages saw the same state of the catalog.

CREATE TABLE catalog_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);
