//! CORS for browser callers on other origins (`server.cors_origins`). Calls through Backstage's
//! proxy are same-origin for the browser and need none of this. Preflights are answered here,
//! before authentication (a preflight carries no token); the answers to real requests, errors
//! included, carry the CORS headers so that a page can read a 401 or a 429 and its rate-limit
//! headers. Credentials (cookies) are never allowed: the API takes bearer tokens only.

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::server::Cors;

/// How long a browser may cache a preflight's answer.
const MAX_AGE: Duration = Duration::from_secs(600);

/// The CORS layer `cors` asks for; `None` when CORS is off.
pub fn layer(cors: &Cors) -> Option<CorsLayer> {
    let origin = match cors {
        Cors::Off => return None,
        Cors::Any => AllowOrigin::any(),
        Cors::Origins(origins) => {
            AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
        }
    };
    Some(
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods([
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            .expose_headers([
                HeaderName::from_static("x-ratelimit-limit"),
                HeaderName::from_static("x-ratelimit-remaining"),
                HeaderName::from_static("x-ratelimit-reset"),
                HeaderName::from_static("x-request-id"),
                header::RETRY_AFTER,
            ])
            .max_age(MAX_AGE),
    )
}
