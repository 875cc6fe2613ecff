-- Named, expiring leases: a replica holds `name` until `expires_at_ms` (Unix epoch milliseconds).
-- Background work that must run on one replica at a time (e.g. refreshing one catalog location)
-- takes the lease first; a crashed holder's lease simply expires.
CREATE TABLE leases (
    name          TEXT    NOT NULL PRIMARY KEY,
    holder        TEXT    NOT NULL,
    expires_at_ms INTEGER NOT NULL
);
