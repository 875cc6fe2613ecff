//! What every page shares: the chrome (title, navigation, who is signed in, the CSRF token for
//! its forms), rendering, and the error page. Errors carry the API's messages: a service error
//! becomes an [`AppError`] in the one place it always does, and its message is shown as is.

use std::sync::Arc;

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::UiState;
use super::session::Viewer;
use crate::error::AppError;

/// The portal's version, shown in the footer and on the admin page.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The main navigation's entries: (key, label, path).
pub const NAV: &[(&str, &str, &str)] = &[
    ("home", "Home", "/"),
    ("catalog", "Catalog", "/catalog"),
    ("workspaces", "Workspaces", "/workspaces"),
    ("dora", "DORA", "/dora"),
];

/// The layout's data; every page template has one as `chrome`.
pub struct Chrome {
    pub title: String,
    pub base: Arc<str>,
    /// The current navigation entry's key.
    pub nav: &'static str,
    /// Empty on pages shown before sign-in.
    pub csrf: String,
    pub user: Option<ChromeUser>,
    pub version: &'static str,
}

pub struct ChromeUser {
    pub name: String,
    pub subject: String,
    pub guest: bool,
    pub admin: bool,
}

impl Chrome {
    pub fn new(
        ui: &UiState,
        viewer: &Viewer,
        title: impl Into<String>,
        nav: &'static str,
    ) -> Chrome {
        Chrome {
            title: title.into(),
            base: ui.base.clone(),
            nav,
            csrf: viewer.session.csrf_token.clone(),
            user: Some(ChromeUser {
                name: viewer.session.display_name.clone(),
                subject: viewer.session.principal.subject.clone(),
                guest: viewer.session.provider == "guest",
                admin: viewer.admin,
            }),
            version: VERSION,
        }
    }

    /// For pages shown to someone not signed in.
    pub fn anonymous(ui: &UiState, title: impl Into<String>) -> Chrome {
        Chrome {
            title: title.into(),
            base: ui.base.clone(),
            nav: "",
            csrf: String::new(),
            user: None,
            version: VERSION,
        }
    }

    /// The navigation entries with their full links: (key, label, href).
    pub fn nav_links(&self) -> Vec<(&'static str, &'static str, String)> {
        let mut links: Vec<_> = NAV
            .iter()
            .map(|(key, label, path)| (*key, *label, format!("{}{path}", self.base)))
            .collect();
        if self.user.as_ref().is_some_and(|u| u.admin) {
            links.push(("admin", "Admin", format!("{}/admin", self.base)));
        }
        links
    }
}

/// A page as a response: the rendered template, never cached (pages show private data).
pub fn html<T: Template>(template: &T) -> Result<Response, UiError> {
    html_with(StatusCode::OK, template)
}

pub fn html_with<T: Template>(status: StatusCode, template: &T) -> Result<Response, UiError> {
    let body = template
        .render()
        .map_err(|e| UiError::from(AppError::Internal(e.into())))?;
    let mut response = (status, Html(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// A failed page: its status and the message the API would give.
#[derive(Debug)]
pub struct UiError {
    pub status: StatusCode,
    pub message: String,
}

impl<E: Into<AppError>> From<E> for UiError {
    fn from(err: E) -> Self {
        let err = err.into();
        let status = err.status();
        let message = match &err {
            AppError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "page failed");
                crate::error::INTERNAL_MESSAGE.to_owned()
            }
            other => other.to_string(),
        };
        UiError { status, message }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    reason: &'a str,
    message: &'a str,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            status: self.status.as_u16(),
            reason: self.status.canonical_reason().unwrap_or("Error"),
            message: &self.message,
        };
        match page.render() {
            Ok(body) => (self.status, Html(body)).into_response(),
            Err(_) => (self.status, self.message).into_response(),
        }
    }
}

/// A `303 See Other` to `location` (after a form post, so a reload does not post again).
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Whether the request came from htmx (it then wants a fragment, not a page).
pub fn is_htmx(headers: &axum::http::HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|v| v == "true")
}
