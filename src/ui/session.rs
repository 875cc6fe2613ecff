//! The browser side of sessions: the cookie, the guard in front of every signed-in page, and the
//! CSRF check of every form post.
//!
//! The session cookie is `HttpOnly`, `SameSite=Lax`, `Path=/` (below the base path) and `Secure`
//! when the portal is served over HTTPS (`ui.public_url` is https, or a proxy says
//! `X-Forwarded-Proto: https`). The guard turns it into the session's [`Principal`] and spends
//! that principal's rate-limit budget, exactly as the API's guard does for a bearer token, with
//! the same `X-RateLimit-*` headers. Form posts carry the session's CSRF token (a hidden `_csrf`
//! field, or the `X-CSRF-Token` header htmx sends); a post without it is refused with 403.

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::UiState;
use super::page::{UiError, see_other};
use crate::auth::guard::{LIMIT, REMAINING, RESET};
use crate::auth::session::Session;
use crate::error::AppError;
use crate::principal::Principal;
use crate::rate_limit::Bucket;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "fawkes_session";
/// A cookie binding a sign-in under way to the browser that started it (login CSRF).
pub const LOGIN_COOKIE: &str = "fawkes_login";
/// The token guarding the sign-in forms before there is a session.
pub const PRESESSION_COOKIE: &str = "fawkes_presession";
/// The largest form body a page accepts.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The signed-in person of a request (put there by [`guard`]).
#[derive(Debug, Clone)]
pub struct Viewer {
    pub session: Session,
    /// Whether they see the admin page.
    pub admin: bool,
}

impl Viewer {
    pub fn principal(&self) -> &Principal {
        &self.session.principal
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Viewer>()
            .cloned()
            .ok_or_else(|| UiError::from(AppError::Unauthorized("Sign in to see this page".into())))
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
}

/// Whether cookies must be `Secure`: the portal is reached over HTTPS.
pub fn secure(ui: &UiState, headers: &HeaderMap) -> bool {
    ui.config.ui.public_url.scheme() == "https"
        || headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, below the base path, Secure over HTTPS;
/// `max_age` `None` deletes the cookie.
pub fn set_cookie(
    ui: &UiState,
    headers: &HeaderMap,
    name: &str,
    value: &str,
    max_age: Option<u64>,
) -> HeaderValue {
    let path = if ui.base.is_empty() { "/" } else { &ui.base };
    let age = max_age.unwrap_or(0);
    let secure = if secure(ui, headers) { "; Secure" } else { "" };
    let text =
        format!("{name}={value}; Path={path}; Max-Age={age}; HttpOnly; SameSite=Lax{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// Where a request for `path` goes when no one is signed in.
fn to_sign_in(
    ui: &UiState,
    method: &Method,
    headers: &HeaderMap,
    path_and_query: &str,
) -> Response {
    let next = if *method == Method::GET && !super::page::is_htmx(headers) {
        path_and_query.to_owned()
    } else {
        "/".to_owned()
    };
    let target = format!(
        "{}/sign-in?next={}",
        ui.base,
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    if super::page::is_htmx(headers) {
        // htmx follows HX-Redirect with a full page load instead of swapping a fragment.
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        if let Ok(value) = HeaderValue::from_str(&target) {
            response.headers_mut().insert("hx-redirect", value);
        }
        return response;
    }
    see_other(&target)
}

/// In front of every signed-in page and fragment: the session (or a way to sign in), the rate
/// limit of its principal, and `Cache-Control: no-store`.
pub async fn guard(State(ui): State<UiState>, mut req: Request, next: Next) -> Response {
    let token = cookie(req.headers(), SESSION_COOKIE).map(str::to_owned);
    let session = match token {
        Some(token) => match ui.sessions.find(&token).await {
            Ok(session) => session,
            Err(e) => return UiError::from(e).into_response(),
        },
        None => None,
    };
    let Some(session) = session else {
        let path = req
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let path = path.strip_prefix(&*ui.base).unwrap_or(&path).to_owned();
        return to_sign_in(&ui, req.method(), req.headers(), &path);
    };
    let decision = match ui
        .limiter
        .check(Bucket::Principal(&session.principal))
        .await
    {
        Ok(decision) => decision,
        Err(unavailable) => {
            return UiError::from(AppError::Unavailable(unavailable.to_string())).into_response();
        }
    };
    let mut response = if decision.allowed {
        let admin = match is_admin(&ui, &session.principal).await {
            Ok(admin) => admin,
            Err(e) => return e.into_response(),
        };
        // The principal too, as the API's guard leaves it, for what runs after (its share of
        // the database pool).
        req.extensions_mut().insert(session.principal.clone());
        req.extensions_mut().insert(Viewer { session, admin });
        next.run(req).await
    } else {
        let mut response = UiError::from(AppError::TooManyRequests {
            message: format!(
                "Rate limit exceeded: {} requests per minute; retry in {} seconds",
                decision.limit, decision.retry_after
            ),
            retry_after_secs: decision.retry_after,
        })
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, decision.retry_after.into());
        response
    };
    let headers = response.headers_mut();
    headers.insert(LIMIT.clone(), HeaderValue::from(decision.limit));
    headers.insert(REMAINING.clone(), HeaderValue::from(decision.remaining));
    headers.insert(RESET.clone(), HeaderValue::from(decision.reset));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Whether `principal` sees the admin page: named in `ui.admin_users`, or a member of
/// `ui.admin_group` in the catalog.
pub async fn is_admin(ui: &UiState, principal: &Principal) -> Result<bool, UiError> {
    let subject = principal.subject.to_lowercase();
    if ui.config.ui.admin_users.contains(&subject) {
        return Ok(true);
    }
    let group = &ui.config.ui.admin_group;
    if group.is_empty() || principal.is_service() {
        return Ok(false);
    }
    let groups = ui.catalog.groups_of(&subject).await?;
    Ok(groups.iter().any(|g| g == group))
}

/// The fields of a form post whose CSRF token was checked against the session's.
#[derive(Debug, Default)]
pub struct CsrfForm(pub Vec<(String, String)>);

impl CsrfForm {
    /// The last value of field `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim())
            .filter(|value| !value.is_empty())
    }
}

/// Reads a urlencoded form body of at most [`MAX_FORM_BYTES`].
pub async fn form_fields(body: Body) -> Result<Vec<(String, String)>, UiError> {
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| UiError::from(AppError::PayloadTooLarge("The form is too large".into())))?;
    Ok(url::form_urlencoded::parse(&bytes).into_owned().collect())
}

impl<S: Send + Sync> FromRequest<S> for CsrfForm {
    type Rejection = UiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, state).await?;
        let header_token = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let fields = form_fields(body).await?;
        let form = CsrfForm(fields);
        let token = header_token.or_else(|| form.get("_csrf").map(str::to_owned));
        if !token.is_some_and(|t| viewer.session.csrf_matches(&t)) {
            return Err(UiError::from(AppError::Forbidden(
                "This form has expired or did not come from this site (CSRF check failed): \
                 reload the page and try again"
                    .into(),
            )));
        }
        Ok(form)
    }
}

/// The client's address when the server knows it (it does when serving; in-process tests may not).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<std::net::SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}
