//! The OpenAPI document's fixed parts; every route adds its own path through `utoipa_axum::routes!`.

use axum::body::Bytes;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Fawkes Portal API",
        description = "Backend of the Fawkes internal developer platform's Backstage plugins. \
            Errors are always `{\"error\": \"...\"}`; 500s add a `requestId` to quote.",
        license(name = "MIT", identifier = "MIT"),
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth),
    tags(
        (name = "system", description = "Health, readiness, metrics and API documentation"),
        (name = "auth", description = "Who the caller is, and the built-in issuer's public keys"),
        (name = "che-launcher", description = "Eclipse Che workspaces from a devfile: create, list, start, stop, delete"),
        (name = "devlake", description = "DORA metrics and deployment history, computed as Apache DevLake does, \
            from DevLake-compatible webhooks (posted by service principals)"),
        (name = "catalog", description = "The software catalog: register locations, query entities (Backstage-compatible)"),
    ),
)]
/// The document's fixed parts: title, licence, tags, the error body, the bearer scheme.
pub struct ApiDoc;

/// Name of the bearer-token security scheme that authenticated routes declare.
pub const BEARER: &str = "bearer";

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A Backstage user token, a service token, or one from `fawkes-portal token issue`"))
                    .build(),
            ),
        );
    }
}

/// The serialised document, shared with the handler that serves it.
#[derive(Clone)]
pub struct OpenApiJson(pub Bytes);

/// With `server.public_base_path` set, the document names it as its server, so that clients
/// (and the docs page's "Try it out") call `<prefix>/api/...` through the proxy.
pub fn servers(doc: &mut utoipa::openapi::OpenApi, public_base_path: &str) {
    if !public_base_path.is_empty() {
        doc.servers = Some(vec![
            utoipa::openapi::server::ServerBuilder::new()
                .url(public_base_path)
                .description(Some(
                    "The API as reached through its proxy (server.public_base_path)",
                ))
                .build(),
        ]);
    }
}
