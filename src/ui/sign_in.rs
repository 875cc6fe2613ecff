//! Signing in and out: the sign-in page (one button per configured provider, and the guest
//! sign-in where it is on), the provider round trips (OpenID Connect with PKCE, GitHub OAuth) and
//! sign-out. Sign-in requests spend the client address's anonymous rate-limit budget, as
//! requests with bad credentials do on the API.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::UiState;
use super::page::{Chrome, UiError, html_with, see_other};
use super::session::{
    ClientAddr, CsrfForm, LOGIN_COOKIE, PRESESSION_COOKIE, SESSION_COOKIE, cookie, form_fields,
    set_cookie,
};
use crate::auth::login::{GUEST, Identity, LoginError};
use crate::auth::session::{LOGIN_TTL, random_token};
use crate::catalog::CatalogError;
use crate::error::AppError;
use crate::principal::Principal;
use crate::rate_limit::Bucket;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    next: String,
    error: Option<String>,
    guest: bool,
    presession: String,
    oidc_label: Option<String>,
    github: bool,
}

#[derive(Deserialize, Default)]
pub struct SignInQuery {
    next: Option<String>,
}

/// `next` if it is a path of this site, else `/` (no open redirects).
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && path.len() <= 2048 =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// The sign-in page, with `error` shown above the buttons.
fn sign_in_page(
    ui: &UiState,
    headers: &HeaderMap,
    next: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let existing = cookie(headers, PRESESSION_COOKIE)
        .filter(|v| (20..=64).contains(&v.len()))
        .map(str::to_owned);
    let presession = existing.clone().unwrap_or_else(|| random_token(24));
    let page = SignInPage {
        chrome: Chrome::anonymous(ui, "Sign in"),
        next: next.to_owned(),
        error,
        guest: ui.config.ui.guest,
        presession: presession.clone(),
        oidc_label: ui.oidc.as_ref().map(|o| o.label().to_owned()),
        github: ui.github.is_some(),
    };
    let mut response = match html_with(status, &page) {
        Ok(response) => response,
        Err(e) => return e.into_response(),
    };
    if existing.is_none() {
        let value = set_cookie(ui, headers, PRESESSION_COOKIE, &presession, Some(3600));
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

pub async fn page(
    State(ui): State<UiState>,
    headers: HeaderMap,
    Query(query): Query<SignInQuery>,
) -> Response {
    let next = local_path(query.next.as_deref());
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Ok(Some(_)) = ui.sessions.find(token).await
    {
        return see_other(&ui.link(&next));
    }
    sign_in_page(&ui, &headers, &next, None, StatusCode::OK)
}

/// Spends the client address's anonymous budget; `Err` is the 429 page.
async fn spend_anonymous(ui: &UiState, address: Option<SocketAddr>) -> Result<(), Response> {
    let bucket = Bucket::Anonymous(address.map(|a| a.ip()));
    match ui.limiter.check(bucket).await {
        Ok(decision) if decision.allowed => Ok(()),
        Ok(decision) => Err(UiError::from(AppError::TooManyRequests {
            message: format!(
                "Too many sign-in attempts: retry in {} seconds",
                decision.retry_after
            ),
            retry_after_secs: decision.retry_after,
        })
        .into_response()),
        Err(unavailable) => {
            Err(UiError::from(AppError::Unavailable(unavailable.to_string())).into_response())
        }
    }
}

fn client(connect: ClientAddr) -> Option<SocketAddr> {
    connect.0
}

/// Starts a session for `identity` and sends the browser to `next`.
async fn signed_in(
    ui: &UiState,
    headers: &HeaderMap,
    identity: Identity,
    provider: &str,
    next: &str,
) -> Response {
    let (token, _) = match ui
        .sessions
        .start(identity.principal, &identity.display_name, provider)
        .await
    {
        Ok(started) => started,
        Err(e) => return UiError::from(e).into_response(),
    };
    let mut response = see_other(&ui.link(next));
    let max_age = ui.sessions.ttl().as_secs();
    let set = response.headers_mut();
    set.append(
        header::SET_COOKIE,
        set_cookie(ui, headers, SESSION_COOKIE, &token, Some(max_age)),
    );
    set.append(
        header::SET_COOKIE,
        set_cookie(ui, headers, PRESESSION_COOKIE, "", None),
    );
    set.append(
        header::SET_COOKIE,
        set_cookie(ui, headers, LOGIN_COOKIE, "", None),
    );
    response
}

/// Guest sign-in (local use): `user:default/guest`, when `ui.guest` is on.
pub async fn guest(State(ui): State<UiState>, connect: ClientAddr, request: Request) -> Response {
    if let Err(refused) = spend_anonymous(&ui, client(connect)).await {
        return refused;
    }
    let headers = request.headers().clone();
    let fields = match form_fields(request.into_body()).await {
        Ok(fields) => CsrfForm(fields),
        Err(e) => return e.into_response(),
    };
    let next = local_path(fields.get("next"));
    if !ui.config.ui.guest {
        return sign_in_page(
            &ui,
            &headers,
            &next,
            Some("Guest sign-in is off on this server (ui.guest)".into()),
            StatusCode::FORBIDDEN,
        );
    }
    let expected = cookie(&headers, PRESESSION_COOKIE).unwrap_or_default();
    let sent = fields.get("_csrf").unwrap_or_default();
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(sent.as_bytes())) {
        return sign_in_page(
            &ui,
            &headers,
            &next,
            Some("This sign-in form has expired or did not come from this site: try again".into()),
            StatusCode::FORBIDDEN,
        );
    }
    let identity = Identity {
        principal: Principal::user(GUEST),
        display_name: "Guest".into(),
    };
    signed_in(&ui, &headers, identity, "guest", &next).await
}

/// Which provider a round trip is with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Provider {
    Oidc,
    Github,
}

impl Provider {
    fn name(self) -> &'static str {
        match self {
            Provider::Oidc => "oidc",
            Provider::Github => "github",
        }
    }

    fn redirect_uri(self, ui: &UiState) -> String {
        format!("{}auth/{}/callback", ui.config.ui.public_url, self.name())
    }
}

async fn start(
    ui: UiState,
    headers: HeaderMap,
    connect: ClientAddr,
    query: SignInQuery,
    provider: Provider,
) -> Response {
    if let Err(refused) = spend_anonymous(&ui, client(connect)).await {
        return refused;
    }
    let next = local_path(query.next.as_deref());
    let configured = match provider {
        Provider::Oidc => ui.oidc.is_some(),
        Provider::Github => ui.github.is_some(),
    };
    if !configured {
        let message = format!("{} sign-in is not configured", provider.name());
        return sign_in_page(&ui, &headers, &next, Some(message), StatusCode::NOT_FOUND);
    }
    let login = match ui.sessions.begin_login(provider.name(), &next).await {
        Ok(login) => login,
        Err(e) => return UiError::from(e).into_response(),
    };
    let redirect_uri = provider.redirect_uri(&ui);
    let url = match (provider, &ui.oidc, &ui.github) {
        (Provider::Oidc, Some(oidc), _) => oidc.authorize_url(&login, &redirect_uri).await,
        (Provider::Github, _, Some(github)) => github.authorize_url(&login, &redirect_uri),
        _ => Err(LoginError::Unavailable("not configured".into())),
    };
    match url {
        Ok(url) => {
            let mut response = see_other(url.as_str());
            let value = set_cookie(
                &ui,
                &headers,
                LOGIN_COOKIE,
                &login.state,
                Some(LOGIN_TTL.as_secs()),
            );
            response.headers_mut().append(header::SET_COOKIE, value);
            response
        }
        Err(e) => sign_in_page(
            &ui,
            &headers,
            &next,
            Some(e.to_string()),
            StatusCode::BAD_GATEWAY,
        ),
    }
}

#[derive(Deserialize, Default)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    ui: UiState,
    headers: HeaderMap,
    connect: ClientAddr,
    query: CallbackQuery,
    provider: Provider,
) -> Response {
    if let Err(refused) = spend_anonymous(&ui, client(connect)).await {
        return refused;
    }
    let failed = |message: String, status: StatusCode| {
        sign_in_page(&ui, &headers, "/", Some(message), status)
    };
    if let Some(error) = &query.error {
        let detail = query.error_description.as_deref().unwrap_or_default();
        let message = LoginError::Refused(format!("{error} {detail}").trim().to_owned());
        return failed(message.to_string(), StatusCode::BAD_REQUEST);
    }
    let state = query.state.as_deref().unwrap_or_default();
    let bound = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if state.is_empty() || !bool::from(bound.as_bytes().ct_eq(state.as_bytes())) {
        return failed(
            "This sign-in was not started in this browser: start it again".into(),
            StatusCode::BAD_REQUEST,
        );
    }
    let login = match ui.sessions.finish_login(state).await {
        Ok(Some(login)) if login.provider == provider.name() => login,
        Ok(_) => {
            return failed(
                "This sign-in has expired or was already used: start it again".into(),
                StatusCode::BAD_REQUEST,
            );
        }
        Err(e) => return UiError::from(e).into_response(),
    };
    let Some(code) = query
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 2048)
    else {
        return failed(
            "The provider sent no authorization code".into(),
            StatusCode::BAD_REQUEST,
        );
    };
    let redirect_uri = provider.redirect_uri(&ui);
    let identity = match (provider, &ui.oidc, &ui.github) {
        (Provider::Oidc, Some(oidc), _) => oidc.finish(code, &login, &redirect_uri).await,
        (Provider::Github, _, Some(github)) => github.finish(code, &login, &redirect_uri).await,
        _ => Err(LoginError::Unavailable("not configured".into())),
    };
    let identity = match identity {
        Ok(identity) if provider == Provider::Github => resolve_user_entity(&ui, identity).await,
        other => other,
    };
    match identity {
        Ok(identity) => signed_in(&ui, &headers, identity, provider.name(), &login.return_to).await,
        Err(e) => {
            tracing::warn!(provider = provider.name(), error = %e, "sign-in failed");
            let status = match e {
                LoginError::Unavailable(_) => StatusCode::BAD_GATEWAY,
                _ => StatusCode::UNAUTHORIZED,
            };
            failed(e.to_string(), status)
        }
    }
}

/// GitHub's person must be a User entity of the catalog, as Backstage's
/// `usernameMatchingUserEntityName` resolver requires, unless
/// `ui.github.allow_sign_in_without_user_entity` admits anyone.
async fn resolve_user_entity(ui: &UiState, identity: Identity) -> Result<Identity, LoginError> {
    let allowed = ui
        .config
        .ui
        .github
        .as_ref()
        .is_some_and(|github| github.allow_sign_in_without_user_entity);
    if allowed {
        return Ok(identity);
    }
    let name = identity
        .principal
        .subject
        .strip_prefix("user:default/")
        .unwrap_or(&identity.principal.subject);
    match ui.catalog.entity_by_name("user", "default", name).await {
        Ok(_) => Ok(identity),
        Err(CatalogError::NotFound(_)) => Err(LoginError::Unresolved(format!(
            "the catalog has no User entity named '{name}'; ask your platform team to add you"
        ))),
        Err(e) => {
            tracing::error!(error = %e, "sign-in: the catalog could not be read");
            Err(LoginError::Unavailable("the catalog cannot be read".into()))
        }
    }
}

pub async fn oidc_start(
    State(ui): State<UiState>,
    headers: HeaderMap,
    connect: ClientAddr,
    Query(query): Query<SignInQuery>,
) -> Response {
    start(ui, headers, connect, query, Provider::Oidc).await
}

pub async fn oidc_callback(
    State(ui): State<UiState>,
    headers: HeaderMap,
    connect: ClientAddr,
    Query(query): Query<CallbackQuery>,
) -> Response {
    callback(ui, headers, connect, query, Provider::Oidc).await
}

pub async fn github_start(
    State(ui): State<UiState>,
    headers: HeaderMap,
    connect: ClientAddr,
    Query(query): Query<SignInQuery>,
) -> Response {
    start(ui, headers, connect, query, Provider::Github).await
}

pub async fn github_callback(
    State(ui): State<UiState>,
    headers: HeaderMap,
    connect: ClientAddr,
    Query(query): Query<CallbackQuery>,
) -> Response {
    callback(ui, headers, connect, query, Provider::Github).await
}

/// Ends the session and forgets its cookie.
pub async fn sign_out(
    State(ui): State<UiState>,
    headers: HeaderMap,
    _form: CsrfForm,
) -> Result<Response, UiError> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        ui.sessions.end(token).await?;
    }
    let mut response = see_other(&ui.link("/sign-in"));
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&ui, &headers, SESSION_COOKIE, "", None),
    );
    Ok(response)
}
