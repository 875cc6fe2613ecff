//! The software catalog: a Backstage-compatible catalog of entities read from registered
//! locations, answering Backstage's `/api/catalog` routes.
//!
//! - [`model`]: entities, refs, locations; [`validate`]: Backstage's validation rules;
//!   [`relations`]: relations from spec fields, both directions; [`search`]: the flattened rows
//!   filters run on; [`filter`]: the query grammar and `fields` projection; [`parse`]: YAML files
//!   under budgets.
//! - [`ingest`]: reading a location (file or url) and its nested Location entities;
//!   [`service`]: the use cases; [`store`]: persistence (SQLite, PostgreSQL); [`http`]: routes.

pub mod filter;
pub mod ingest;
pub mod model;
pub mod parse;
pub mod predicate;
pub mod read;
pub mod relations;
pub mod search;
pub mod service;
pub mod stitch;
pub mod store;
pub mod validate;

pub use model::{Entity, EntityRef, Location, LocationSpec, LocationStatus, LocationType};
pub use service::{Catalog, CatalogError};
pub mod http;
