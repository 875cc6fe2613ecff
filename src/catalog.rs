//! The software catalog: a Backstage-compatible catalog of entities read from registered
//! locations, answering Backstage's `/api/catalog` routes.
//!
//! - [`model`]: entities, refs, locations; [`validate`]: Backstage's validation rules;
//!   [`relations`]: relations from spec fields, both directions; [`search`]: the flattened rows
//!   filters run on; [`filter`]: the query grammar and `fields` projection; [`parse`]: YAML files
//!   under budgets.
//! - [`ingest`]: reading a location (file or url) and its nested Location entities;
//!   [`service`]: registering, moving, listing and deleting locations; [`refresh`]: processing
//!   them when due; [`entities`] and [`query`]: the read rules (lists, pages, cursors, order,
//!   projection); [`store`]: persistence (one implementation for SQLite and PostgreSQL);
//!   [`http`]: the handlers; [`router`]: the routes.

pub mod analyze;
pub mod ancestry;
pub mod answers;
pub mod entities;
pub mod facets;
pub mod filter;
pub mod ingest;
pub mod location_query;
pub mod membership;
pub mod model;
pub mod orphans;
pub mod parse;
pub mod placeholder;
pub mod predicate;
pub mod query;
pub mod read;
pub mod recent;
pub mod refresh;
pub mod relations;
pub mod scm;
pub mod search;
pub mod service;
pub mod stitch;
pub mod store;
pub mod template;
pub mod validate;

pub use model::{Entity, EntityRef, Location, LocationSpec, LocationStatus, LocationType};
pub mod http;

pub use service::{Catalog, CatalogError};

use axum::extract::FromRef;
use utoipa_axum::router::OpenApiRouter;

/// The catalog's routes under `/api/catalog`.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Catalog: FromRef<S>,
{
    use http::{analyze, ancestry, entities, locations, misc};
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(entities::get_entities))
        .routes(routes!(
            entities::query_entities,
            entities::query_entities_post
        ))
        .routes(routes!(entities::by_name))
        .routes(routes!(ancestry::ancestry))
        .routes(routes!(entities::by_uid, entities::delete_by_uid))
        .routes(routes!(entities::by_refs))
        .routes(routes!(misc::entity_facets, misc::entity_facets_post))
        .routes(routes!(misc::refresh))
        .routes(routes!(misc::validate_entity))
        .routes(routes!(
            locations::create_location,
            locations::list_locations
        ))
        .routes(routes!(
            locations::get_location,
            locations::update_location,
            locations::delete_location
        ))
        .routes(routes!(locations::location_by_entity))
        .routes(routes!(locations::query_locations))
        .routes(routes!(analyze::analyze_location))
}
