//! The UI's static files, embedded in the binary (`assets/ui`): the stylesheet, the icon and
//! htmx (vendored from npm with its licence; its gzip form is served to browsers that accept it).
//! Served with an ETag and `Cache-Control: no-cache`, so a browser revalidates with one small 304.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    gzip: Option<&'static [u8]>,
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../assets/ui/app.css"),
        gzip: None,
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../assets/ui/favicon.svg"),
        gzip: None,
    },
    Asset {
        name: "htmx.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/ui/vendor/htmx.min.js"),
        gzip: Some(include_bytes!("../../assets/ui/vendor/htmx.min.js.gz")),
    },
];

/// Each asset's ETag: a digest of its content.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            let digest = Sha256::digest(asset.body);
            let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
            hex
        })
        .collect()
});

/// The JavaScript the UI ships: (file, bytes as served to a browser accepting gzip).
pub fn javascript() -> Vec<(&'static str, usize)> {
    ASSETS
        .iter()
        .filter(|a| a.content_type.starts_with("text/javascript"))
        .map(|a| (a.name, a.gzip.unwrap_or(a.body).len()))
        .collect()
}

/// `GET /ui/assets/{file}`: an embedded file, gzip where accepted, revalidated by ETag.
pub async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some((index, asset)) = ASSETS.iter().enumerate().find(|(_, a)| a.name == file) else {
        return (StatusCode::NOT_FOUND, "No such asset").into_response();
    };
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let gzip = asset.gzip.filter(|_| accepts_gzip);
    // Each encoding is its own representation, with its own validator.
    let suffix = if gzip.is_some() { "-gz" } else { "" };
    let etag = format!("\"{}{suffix}\"", ETAGS[index]);
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else if let Some(gzip) = gzip {
        let mut response = gzip.into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        response
    } else {
        asset.body.into_response()
    };
    let set = response.headers_mut();
    set.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    set.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    set.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        set.insert(header::ETAG, value);
    }
    response
}
