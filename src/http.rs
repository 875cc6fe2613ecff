//! The HTTP layer every feature shares: extractors that answer malformed input with the
//! `{"error": ...}` body ([`extract`]), that body for errors the framework makes ([`envelope`]),
//! request ids, logs and metrics ([`observe`]), and the OpenAPI document's fixed parts
//! ([`openapi`]), and serving connections with their limits ([`server`]). The route list and the
//! middleware stack belong to the composition root (`app::routes`), which alone knows every
//! feature.

pub mod cors;
pub mod docs;
pub mod envelope;
pub mod extract;
pub mod observe;
pub mod openapi;
pub mod server;

pub use docs::DOCS_UI_PATH;
