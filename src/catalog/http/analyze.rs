//! `POST /analyze-location`: what registering a repository URL would give (catalog-import).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::TAG;
use crate::catalog::Catalog;
use crate::catalog::model::LocationType;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::AppJson;

/// The location to analyze.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Deserialize, ToSchema)]
pub struct AnalyzedLocation {
    /// `url`.
    #[serde(rename = "type")]
    kind: String,
    /// The repository's URL (GitHub or GitLab layout), or a file in it.
    target: String,
    #[serde(default)]
    #[allow(dead_code)]
    presence: Option<String>,
}

/// The body of `POST /analyze-location`.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzeBody {
    location: AnalyzedLocation,
    /// The catalog file to look for (default `catalog-info.yaml`).
    #[serde(default)]
    catalog_filename: Option<String>,
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
pub struct FoundLocation {
    #[serde(rename = "type")]
    kind: LocationType,
    target: String,
}

/// An entity of the repository's catalog file.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExistingEntityFile {
    location: FoundLocation,
    /// Whether that file is registered already.
    is_registered: bool,
    #[schema(value_type = Object)]
    entity: Value,
}

/// An entity to create, with the fields the user should fill in.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
pub struct GeneratedEntity {
    #[schema(value_type = Object)]
    entity: Value,
    #[schema(value_type = Vec<Object>)]
    fields: Vec<Value>,
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzeResponse {
    existing_entity_files: Vec<ExistingEntityFile>,
    generate_entities: Vec<GeneratedEntity>,
}

/// The repository's catalog file if it has one (read through the guarded fetcher), else the Component to create for it.
#[utoipa::path(post, path = "/api/catalog/analyze-location", tag = TAG, operation_id = "catalog_analyze_location",
    request_body = AnalyzeBody,
    responses(
        (status = 200, description = "The existing catalog file's entities, or the entity to generate", body = AnalyzeResponse),
        (status = 400, description = "The target is not a URL", body = ErrorBody),
    ))]
pub async fn analyze_location(
    State(catalog): State<Catalog>,
    AppJson(body): AppJson<AnalyzeBody>,
) -> Result<Json<AnalyzeResponse>, AppError> {
    let analysis = catalog
        .analyze_location(
            &body.location.kind,
            &body.location.target,
            body.catalog_filename.as_deref(),
        )
        .await?;
    Ok(Json(AnalyzeResponse {
        existing_entity_files: analysis
            .existing
            .into_iter()
            .map(|(spec, is_registered, entity)| ExistingEntityFile {
                location: FoundLocation {
                    kind: spec.kind,
                    target: spec.target,
                },
                is_registered,
                entity,
            })
            .collect(),
        generate_entities: analysis
            .generate
            .into_iter()
            .map(|entity| GeneratedEntity {
                entity,
                fields: Vec::new(),
            })
            .collect(),
    }))
}
