//! Who a request is from: a verified [`Principal`], put on the request by the auth guard
//! (`auth::guard`) and taken by handlers as an argument.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;

/// Whether a principal is a person or a machine.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    User,
    Service,
}

/// A verified caller. Users are identified by their entity ref (`user:default/jdoe`), services by
/// a subject (`system:serviceaccount:backstage:backstage-sa`, or a configured name).
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, ToSchema)]
pub struct Principal {
    #[serde(rename = "type")]
    pub kind: PrincipalKind,
    pub subject: String,
}

impl Principal {
    /// A user, by entity ref (`user:default/jdoe`).
    pub fn user(entity_ref: impl Into<String>) -> Self {
        Self {
            kind: PrincipalKind::User,
            subject: entity_ref.into(),
        }
    }

    /// A service, by subject.
    pub fn service(subject: impl Into<String>) -> Self {
        Self {
            kind: PrincipalKind::Service,
            subject: subject.into(),
        }
    }

    /// Whether the caller is a machine.
    pub fn is_service(&self) -> bool {
        self.kind == PrincipalKind::Service
    }

    /// A user's name: the name part of `user:<namespace>/<name>`.
    pub fn user_name(&self) -> Option<&str> {
        if self.kind != PrincipalKind::User {
            return None;
        }
        self.subject.rsplit_once('/').map(|(_, name)| name)
    }
}

/// Handlers take `Principal` as an argument; the guard middleware has already verified it.
impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| AppError::Unauthorized(MISSING.into()))
    }
}

const MISSING: &str = "Missing credentials: send `Authorization: Bearer <token>`";
