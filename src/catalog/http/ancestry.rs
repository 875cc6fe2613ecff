//! `GET /entities/by-name/{kind}/{namespace}/{name}/ancestry`: the entity and the Location
//! entities that led to it, as Backstage's `getEntityAncestors` reads them.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::TAG;
use crate::catalog::Catalog;
use crate::error::{AppError, ErrorBody};

/// One entity of an ancestry.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AncestryItem {
    #[schema(value_type = Object)]
    entity: Value,
    /// Refs of the Location entities that emitted it (none for a generated Location or an orphan).
    parent_entity_refs: Vec<String>,
}

/// The answer of the ancestry route.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AncestryResponse {
    /// The entity asked for, lower-case.
    root_entity_ref: String,
    /// The entity first, then its ancestors.
    items: Vec<AncestryItem>,
}

/// The entity and its ancestors: the Location entities that led to it, up to the one generated for its registered location.
#[utoipa::path(get, path = "/api/catalog/entities/by-name/{kind}/{namespace}/{name}/ancestry", tag = TAG, operation_id = "catalog_get_entity_ancestry",
    params(("kind" = String, Path), ("namespace" = String, Path), ("name" = String, Path)),
    responses(
        (status = 200, description = "The entity and its ancestors", body = AncestryResponse),
        (status = 404, description = "No such entity", body = ErrorBody),
    ))]
pub async fn ancestry(
    State(catalog): State<Catalog>,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Json<AncestryResponse>, AppError> {
    let ancestry = catalog.ancestry(&kind, &namespace, &name).await?;
    Ok(Json(AncestryResponse {
        root_entity_ref: ancestry.root_entity_ref,
        items: ancestry
            .items
            .into_iter()
            .map(|(entity, parent_entity_refs)| AncestryItem {
                entity,
                parent_entity_refs,
            })
            .collect(),
    }))
}
