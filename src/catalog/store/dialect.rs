//! The few statements of the catalog store that differ between SQLite and PostgreSQL.

use crate::db::sql::Backend;

/// What differs between the databases for [`SqlCatalogStore`](super::SqlCatalogStore).
pub trait CatalogSql: Backend<Arguments: Send> {
    /// Starts a write transaction. SQLite needs `BEGIN IMMEDIATE`, so concurrent writers wait for
    /// the write lock instead of failing when their transaction upgrades.
    const BEGIN: &'static str;
    /// Starts a read transaction whose statements all see the same committed state.
    const BEGIN_READ: &'static str;
    /// Starts the multi-row inserts of processed, relation and search rows. On SQLite
    /// `INSERT OR IGNORE INTO`: with no constraint able to abort them (their entity checks are
    /// deferred), SQLite skips the statement journal; nothing in those rows can conflict.
    const INSERT_ROWS: &'static str;
    /// Selects `$1` unused entity ids, inside the write transaction.
    const NEW_IDS: &'static str;
    /// Whether this process makes every change, so counts can be kept until the next one.
    const ONE_WRITER: bool;
    /// The search rows an ordered read takes an entity's sort value from, by entity id.
    /// SQLite without statistics looked the value up through `(key, value, entity_id)` (its
    /// MIN() shortcut walks the key's rows in value order until the entity's): one index walk per
    /// matching entity, over 60 s for an ordered page of 28,750 components at 50,000 entities.
    /// Named here, the lookup is by `(entity_id, key)`: 0.13 s.
    const SORT_VALUE_ROWS: &'static str;
}

impl CatalogSql for sqlx::Sqlite {
    const BEGIN: &'static str = "BEGIN IMMEDIATE";
    // In WAL mode a read transaction's first read fixes its snapshot.
    const BEGIN_READ: &'static str = "BEGIN";
    const INSERT_ROWS: &'static str = "INSERT OR IGNORE INTO";
    // The one writer holds the database, so ids above the largest are unused.
    const NEW_IDS: &'static str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         SELECT (SELECT COALESCE(MAX(id), 0) FROM catalog_entities) + i FROM n";
    const ONE_WRITER: bool = true;
    const SORT_VALUE_ROWS: &'static str = "catalog_search s INDEXED BY catalog_search_entity";
}

impl CatalogSql for sqlx::Postgres {
    const BEGIN: &'static str = "BEGIN";
    const BEGIN_READ: &'static str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
    const INSERT_ROWS: &'static str = "INSERT INTO";
    // Replicas write at once: ids come from a sequence.
    const NEW_IDS: &'static str =
        "SELECT nextval('catalog_entity_ids') FROM generate_series(1, $1)";
    const ONE_WRITER: bool = false;
    // PostgreSQL keeps statistics (autovacuum's ANALYZE) and picks the entity's rows itself.
    const SORT_VALUE_ROWS: &'static str = "catalog_search s";
}
