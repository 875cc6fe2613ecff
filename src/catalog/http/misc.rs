//! `GET` and `POST /entity-facets`, `POST /refresh`, `POST /validate-entity`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{TAG, check_params, filter_of};
use crate::catalog::Catalog;
use crate::catalog::entities::predicate;
use crate::catalog::filter::Filter;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::{AppJson, QueryPairs};

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
pub struct FacetCount {
    value: String,
    count: i64,
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
pub struct Facets {
    /// Per requested facet, its values (as written) and how many entities have each.
    facets: BTreeMap<String, Vec<FacetCount>>,
}

/// Value counts of fields over the entities matching the filters.
#[utoipa::path(get, path = "/api/catalog/entity-facets", tag = TAG, operation_id = "catalog_get_entity_facets",
    params(
        ("facet" = Vec<String>, Query, description = "A field, e.g. `kind` or `metadata.tags`; repeatable"),
        ("filter" = Option<Vec<String>>, Query, description = "As for GET /entities"),
    ),
    responses(
        (status = 200, description = "The counts", body = Facets),
        (status = 400, description = "No facet, or a malformed filter", body = ErrorBody),
    ))]
pub async fn entity_facets(
    State(catalog): State<Catalog>,
    params: QueryPairs,
) -> Result<Json<Facets>, AppError> {
    check_params(&params, &["facet", "filter"])?;
    let facets = params.all("facet");
    if facets.is_empty() {
        return Err(AppError::BadRequest("Missing facet parameter".into()));
    }
    let filter = filter_of(&params.all("filter"))?;
    facet_counts(&catalog, facets, &filter).await
}

/// The body of `POST /entity-facets`.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacetsBody {
    /// Fields to count, e.g. `kind` or `metadata.tags`.
    facets: Vec<String>,
    /// A predicate, as for `POST /entities/by-query`.
    #[schema(value_type = Option<Object>)]
    query: Option<Value>,
}

/// As `GET /entity-facets`, with the filter as a JSON predicate.
#[utoipa::path(post, path = "/api/catalog/entity-facets", tag = TAG, operation_id = "catalog_post_entity_facets",
    request_body = FacetsBody,
    responses(
        (status = 200, description = "The counts", body = Facets),
        (status = 400, description = "No facet, or a malformed predicate", body = ErrorBody),
    ))]
pub async fn entity_facets_post(
    State(catalog): State<Catalog>,
    AppJson(body): AppJson<FacetsBody>,
) -> Result<Json<Facets>, AppError> {
    if body.facets.is_empty() {
        return Err(AppError::BadRequest(
            "Missing facets: name at least one field".into(),
        ));
    }
    let filter = predicate(body.query.as_ref())?;
    facet_counts(&catalog, body.facets, &filter).await
}

async fn facet_counts(
    catalog: &Catalog,
    facets: Vec<String>,
    filter: &Filter,
) -> Result<Json<Facets>, AppError> {
    let counts = catalog.facets(facets, filter).await?;
    let facets = counts
        .into_iter()
        .map(|(facet, values)| {
            let values = values
                .into_iter()
                .map(|(value, count)| FacetCount { value, count })
                .collect();
            (facet, values)
        })
        .collect();
    Ok(Json(Facets { facets }))
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshBody {
    /// The entity whose location is re-read, e.g. `component:default/svc`.
    entity_ref: String,
    /// Accepted for Backstage compatibility and ignored: the bearer token authenticates.
    #[serde(default)]
    #[allow(dead_code)]
    authorization_token: Option<String>,
}

/// Re-reads the location of an entity now (in the background).
#[utoipa::path(post, path = "/api/catalog/refresh", tag = TAG, operation_id = "catalog_refresh",
    request_body = RefreshBody,
    responses(
        (status = 200, description = "Scheduled"),
        (status = 404, description = "No such entity", body = ErrorBody),
    ))]
pub async fn refresh(
    State(catalog): State<Catalog>,
    AppJson(body): AppJson<RefreshBody>,
) -> Result<StatusCode, AppError> {
    catalog.refresh_entity(&body.entity_ref).await?;
    Ok(StatusCode::OK)
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Deserialize, ToSchema)]
pub struct ValidateBody {
    #[schema(value_type = Object)]
    entity: Value,
    /// `url:<target>`.
    location: String,
}

/// Validates one entity as the catalog would; 400 `{errors: [{name, message}]}` when invalid.
#[utoipa::path(post, path = "/api/catalog/validate-entity", tag = TAG, operation_id = "catalog_validate_entity",
    request_body = ValidateBody,
    responses(
        (status = 200, description = "Valid"),
        (status = 400, description = "Invalid: `{errors: [{name, message}]}`", body = Object),
    ))]
pub async fn validate_entity(
    State(catalog): State<Catalog>,
    AppJson(body): AppJson<ValidateBody>,
) -> Response {
    match catalog.validate_entity(body.entity, &body.location) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(errors) => {
            let errors: Vec<Value> = errors
                .iter()
                .map(|m| json!({"name": "InputError", "message": m}))
                .collect();
            (StatusCode::BAD_REQUEST, Json(json!({"errors": errors, "error": errors.first().and_then(|e| e["message"].as_str()).unwrap_or("invalid entity")}))).into_response()
        }
    }
}
