//! Location routes: register (`POST /locations`, with `dryRun`), list, get, delete, and the
//! location of an entity.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::{TAG, check_params};
use crate::catalog::Catalog;
use crate::catalog::model::{Location, LocationStatus, LocationType};
use crate::catalog::service::Registration;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::{AppJson, QueryPairs};
use crate::principal::Principal;

/// The body of `POST /locations`.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLocationBody {
    /// `url` or `file`.
    #[serde(rename = "type")]
    kind: String,
    /// An HTTPS URL, or an absolute path below `catalog.file_roots`.
    target: String,
    /// Accepted for Backstage compatibility; a registered target must exist.
    #[serde(default)]
    #[allow(dead_code)]
    presence: Option<String>,
}

/// A location as Backstage's client expects it.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationRef {
    id: String,
    #[serde(rename = "type")]
    kind: LocationType,
    target: String,
    /// The ref of the Location entity generated for it.
    entity_ref: String,
}

/// A location with its processing state.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationView {
    id: String,
    #[serde(rename = "type")]
    kind: LocationType,
    target: String,
    entity_ref: String,
    status: LocationStatus,
    /// RFC 3339 time of the last completed read.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_refreshed_at: Option<String>,
    /// Problems of the last read, nested locations included.
    errors: Vec<String>,
}

impl From<&Location> for LocationView {
    fn from(l: &Location) -> Self {
        LocationView {
            id: l.id.clone(),
            kind: l.spec.kind,
            target: l.spec.target.clone(),
            entity_ref: l.spec.generated_entity_ref(),
            status: l.status,
            last_refreshed_at: l.last_refreshed_at.map(rfc3339),
            errors: l.errors.clone(),
        }
    }
}

fn rfc3339(ms: i64) -> String {
    let time =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_millis(time).to_string()
}

/// `POST /locations` answer: the spec's fields and Backstage's.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Registered {
    location_id: String,
    #[serde(rename = "type")]
    kind: LocationType,
    target: String,
    status: LocationStatus,
    location: LocationRef,
    /// Dry runs: the entities the location would produce. Otherwise empty: entities are
    /// processed in the background (watch `GET /locations/{id}`).
    #[schema(value_type = Vec<Object>)]
    entities: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exists: Option<bool>,
}

/// Registers a location: the target is read and every entity validated now (any problem is a
/// 400 naming the document and field); nested locations are followed in the background.
#[utoipa::path(post, path = "/api/catalog/locations", tag = TAG, operation_id = "catalog_create_location",
    params(
        ("dryRun" = Option<bool>, Query, description = "Validate and return the entities without storing anything"),
        ("onConflict" = Option<String>, Query, description = "`reject` (the default): a registered type and target is a 409; `refresh`: it is processed again now and returned"),
    ),
    request_body = NewLocationBody,
    responses(
        (status = 201, description = "Registered (or validated, for a dry run)", body = Registered),
        (status = 400, description = "The target cannot be read, or an entity is invalid", body = ErrorBody),
        (status = 409, description = "The same type and target are registered already", body = ErrorBody),
    ))]
pub async fn create_location(
    State(catalog): State<Catalog>,
    principal: Principal,
    params: QueryPairs,
    AppJson(body): AppJson<NewLocationBody>,
) -> Result<(StatusCode, Json<Registered>), AppError> {
    check_params(&params, &["dryRun", "onConflict"])?;
    let dry_run = params.last("dryRun").is_some_and(|v| {
        matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "yes" | "y" | "1" | "on"
        )
    });
    let refresh = match params.last("onConflict") {
        None | Some("reject") => false,
        Some("refresh") => true,
        Some(_) => {
            return Err(AppError::BadRequest(
                "request/query/onConflict must be equal to one of the allowed values: refresh, reject"
                    .into(),
            ));
        }
    };
    let existing = if refresh && !dry_run {
        catalog.refresh_registered(&body.kind, &body.target).await?
    } else {
        None
    };
    let registration = match existing {
        Some(location) => Registration {
            location,
            entities: Vec::new(),
            exists: true,
        },
        None => catalog.register(&body.kind, &body.target, dry_run).await?,
    };
    let l = &registration.location;
    if !dry_run {
        tracing::info!(location = %l.id, target = %l.spec.key(), by = %principal.subject, "catalog location registered");
    }
    Ok((
        StatusCode::CREATED,
        Json(Registered {
            location_id: l.id.clone(),
            kind: l.spec.kind,
            target: l.spec.target.clone(),
            status: l.status,
            location: LocationRef {
                id: l.id.clone(),
                kind: l.spec.kind,
                target: l.spec.target.clone(),
                entity_ref: l.spec.generated_entity_ref(),
            },
            entities: registration
                .entities
                .into_iter()
                .map(Value::Object)
                .collect(),
            exists: dry_run.then_some(registration.exists),
        }),
    ))
}

/// Backstage wraps each listed location in `data`.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
pub struct LocationItem {
    data: LocationView,
}

/// Every registered location.
#[utoipa::path(get, path = "/api/catalog/locations", tag = TAG, operation_id = "catalog_list_locations",
    responses((status = 200, description = "The locations, each as `{data: ...}`", body = Vec<LocationItem>)))]
pub async fn list_locations(
    State(catalog): State<Catalog>,
) -> Result<Json<Vec<LocationItem>>, AppError> {
    let locations = catalog.locations().await?;
    Ok(Json(
        locations
            .iter()
            .map(|l| LocationItem { data: l.into() })
            .collect(),
    ))
}

/// One location with its processing state and errors.
#[utoipa::path(get, path = "/api/catalog/locations/{id}", tag = TAG, operation_id = "catalog_get_location",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The location", body = LocationView),
        (status = 404, description = "No such location", body = ErrorBody),
    ))]
pub async fn get_location(
    State(catalog): State<Catalog>,
    Path(id): Path<String>,
) -> Result<Json<LocationView>, AppError> {
    Ok(Json((&catalog.location(&id).await?).into()))
}

/// The body of `PUT /locations/{id}`.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLocationBody {
    /// `url` or `file`.
    #[serde(rename = "type")]
    kind: String,
    /// An HTTPS URL, or an absolute path below `catalog.file_roots`.
    target: String,
}

/// Points a location at another type and target. The new target is read and validated now (a
/// problem is a 400 and changes nothing); its entities replace the location's in the background.
#[utoipa::path(put, path = "/api/catalog/locations/{id}", tag = TAG, operation_id = "catalog_update_location",
    params(("id" = String, Path)),
    request_body = UpdateLocationBody,
    responses(
        (status = 200, description = "The location, processing its new target", body = LocationView),
        (status = 400, description = "The target cannot be read, or an entity is invalid", body = ErrorBody),
        (status = 404, description = "No such location", body = ErrorBody),
        (status = 409, description = "Another location has this type and target", body = ErrorBody),
    ))]
pub async fn update_location(
    State(catalog): State<Catalog>,
    principal: Principal,
    Path(id): Path<String>,
    AppJson(body): AppJson<UpdateLocationBody>,
) -> Result<Json<LocationView>, AppError> {
    let location = catalog
        .update_location(&id, &body.kind, &body.target)
        .await?;
    tracing::info!(location = %id, target = %location.spec.key(), by = %principal.subject, "catalog location updated");
    Ok(Json((&location).into()))
}

/// Deletes a location and, at once, every entity it produced (nested locations' included).
#[utoipa::path(delete, path = "/api/catalog/locations/{id}", tag = TAG, operation_id = "catalog_delete_location",
    params(("id" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such location", body = ErrorBody),
    ))]
pub async fn delete_location(
    State(catalog): State<Catalog>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    catalog.delete_location(&id).await?;
    tracing::info!(location = %id, by = %principal.subject, "catalog location deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// The registered location an entity came from.
#[utoipa::path(get, path = "/api/catalog/locations/by-entity/{kind}/{namespace}/{name}", tag = TAG, operation_id = "catalog_get_location_by_entity",
    params(("kind" = String, Path), ("namespace" = String, Path), ("name" = String, Path)),
    responses(
        (status = 200, description = "The location", body = LocationView),
        (status = 404, description = "No such entity or location", body = ErrorBody),
    ))]
pub async fn location_by_entity(
    State(catalog): State<Catalog>,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Json<LocationView>, AppError> {
    let location = catalog.location_of_entity(&kind, &namespace, &name).await?;
    Ok(Json((&location).into()))
}

/// The body of `POST /locations/by-query`.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Deserialize, ToSchema)]
pub struct LocationQueryBody {
    /// A predicate on `id`, `type`, `target` and `entityRef` (`$all`, `$any`, `$not`, `$in`, `$hasPrefix`, `$exists`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    query: Option<Value>,
    /// Locations per page (default 1000).
    #[serde(default)]
    #[schema(value_type = Option<u64>)]
    limit: Option<Value>,
    /// The `nextCursor` of the previous page; the rest of the body is then ignored.
    #[serde(default)]
    cursor: Option<String>,
}

/// A location in a by-query page.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueriedLocation {
    id: String,
    target: String,
    #[serde(rename = "type")]
    kind: LocationType,
    entity_ref: String,
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationPageInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// One page of `POST /locations/by-query`.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationPageBody {
    items: Vec<QueriedLocation>,
    /// Locations matching the query in all.
    total_items: usize,
    page_info: LocationPageInfo,
}

/// Registered locations matching a predicate, by id, a page at a time.
#[utoipa::path(post, path = "/api/catalog/locations/by-query", tag = TAG, operation_id = "catalog_query_locations",
    request_body = LocationQueryBody,
    responses(
        (status = 200, description = "A page of locations", body = LocationPageBody),
        (status = 400, description = "A malformed predicate, limit or cursor", body = ErrorBody),
    ))]
pub async fn query_locations(
    State(catalog): State<Catalog>,
    AppJson(body): AppJson<LocationQueryBody>,
) -> Result<Json<LocationPageBody>, AppError> {
    let page = catalog
        .query_locations(body.query, body.limit.as_ref(), body.cursor.as_deref())
        .await?;
    Ok(Json(LocationPageBody {
        items: page
            .items
            .iter()
            .map(|l| QueriedLocation {
                id: l.id.clone(),
                target: l.spec.target.clone(),
                kind: l.spec.kind,
                entity_ref: l.spec.generated_entity_ref(),
            })
            .collect(),
        total_items: page.total_items,
        page_info: LocationPageInfo {
            next_cursor: page.next_cursor,
        },
    }))
}
