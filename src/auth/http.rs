//! Auth routes: the built-in issuer's public keys, and who the caller is.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::Auth;
use crate::error::{AppError, ErrorBody};
use crate::principal::{Principal, PrincipalKind};

/// The built-in issuer's public keys, for verifying the tokens it issues.
#[utoipa::path(get, path = "/api/auth/.well-known/jwks.json", tag = "auth", operation_id = "get_jwks",
    responses(
        (status = 200, description = "JSON Web Key Set", body = Object),
        (status = 404, description = "The built-in issuer is disabled", body = ErrorBody),
    ))]
pub async fn jwks(State(auth): State<Auth>) -> Result<Json<serde_json::Value>, AppError> {
    let issuer = auth.issuer.as_ref().ok_or_else(|| {
        AppError::NotFound("The built-in token issuer is disabled (auth.issuer.enabled)".into())
    })?;
    Ok(Json(issuer.jwks().clone()))
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    /// `user` or `service`.
    #[serde(rename = "type")]
    kind: PrincipalKind,
    /// The user's entity ref, or the service's subject.
    subject: String,
    /// For users, the name part of the entity ref.
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<String>,
    /// Backstage-style claims: `sub`, and `ent` (the ownership refs known for the caller).
    claims: Claims,
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
pub struct Claims {
    sub: String,
    ent: Vec<String>,
}

/// Who the bearer token belongs to, as this server sees it.
#[utoipa::path(get, path = "/api/auth/v1/userinfo", tag = "auth", operation_id = "get_userinfo",
    responses((status = 200, description = "The verified caller", body = UserInfo)))]
pub async fn userinfo(principal: Principal) -> Json<UserInfo> {
    Json(UserInfo {
        kind: principal.kind,
        user_name: principal.user_name().map(str::to_owned),
        claims: Claims {
            sub: principal.subject.clone(),
            ent: vec![principal.subject.clone()],
        },
        subject: principal.subject,
    })
}
