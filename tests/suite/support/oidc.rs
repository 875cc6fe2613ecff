//! An in-process OpenID Connect provider on 127.0.0.1, speaking the real protocol and checking
//! what real providers check: discovery, a JWKS, an authorization endpoint that signs the
//! configured person in at once (redirecting back with a code and the state), and a token
//! endpoint that checks the client's credentials (HTTP Basic), the code (once, for the same
//! redirect URI) and the PKCE verifier (S256), and answers with an ES256-signed ID token carrying
//! the sign-in's nonce. It can be told to misbehave (wrong nonce, audience or issuer, expired).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::keys::TestKey;

pub const CLIENT_ID: &str = "fawkes-portal";
pub const CLIENT_SECRET: &str = "s3cret-client";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehaviour {
    WrongNonce,
    WrongAudience,
    Expired,
    /// The authorization endpoint answers `error=access_denied`.
    Deny,
}

struct Grant {
    redirect_uri: String,
    challenge: String,
    nonce: String,
    user: (String, String),
}

struct Inner {
    base: String,
    key: TestKey,
    /// (preferred_username, name) of whoever signs in next.
    user: Mutex<(String, String)>,
    codes: Mutex<HashMap<String, Grant>>,
    misbehaviour: Mutex<Option<Misbehaviour>>,
    /// Every authorization request's query, for assertions.
    authorizations: Mutex<Vec<HashMap<String, String>>>,
}

pub struct FakeOidc {
    pub issuer: String,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    code: String,
    redirect_uri: String,
    code_verifier: Option<String>,
}

fn refuse(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

impl FakeOidc {
    pub async fn start() -> FakeOidc {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Inner {
            base: base.clone(),
            key: TestKey::es256("oidc-key-1"),
            user: Mutex::new(("alice".into(), "Alice Example".into())),
            codes: Mutex::default(),
            misbehaviour: Mutex::default(),
            authorizations: Mutex::default(),
        });
        let app = axum::Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeOidc {
            issuer: base,
            inner,
            task,
        }
    }

    /// Whoever signs in next.
    pub fn sign_in_as(&self, username: &str, name: &str) {
        *self.inner.user.lock().unwrap() = (username.into(), name.into());
    }

    pub fn misbehave(&self, how: Option<Misbehaviour>) {
        *self.inner.misbehaviour.lock().unwrap() = how;
    }

    /// The query of the last authorization request.
    pub fn last_authorization(&self) -> HashMap<String, String> {
        self.inner
            .authorizations
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("an authorization request")
    }

    /// Points `settings` at this provider.
    pub fn configure(&self, settings: &mut fawkes_portal::config::Settings) {
        settings.ui.oidc.issuer = self.issuer.clone();
        settings.ui.oidc.client_id = CLIENT_ID.into();
        settings.ui.oidc.client_secret = CLIENT_SECRET.into();
        settings.ui.oidc.label = "Sign in with Fake SSO".into();
    }
}

impl Drop for FakeOidc {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn discovery(State(inner): State<Arc<Inner>>) -> Json<Value> {
    let base = &inner.base;
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
    }))
}

async fn jwks(State(inner): State<Arc<Inner>>) -> Json<Value> {
    Json(json!({"keys": [inner.key.jwk]}))
}

async fn authorize(
    State(inner): State<Arc<Inner>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    inner.authorizations.lock().unwrap().push(query.clone());
    let get = |k: &str| query.get(k).cloned().unwrap_or_default();
    if get("client_id") != CLIENT_ID
        || get("response_type") != "code"
        || get("code_challenge_method") != "S256"
        || get("code_challenge").len() < 43
        || !get("scope").split(' ').any(|s| s == "openid")
    {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    let redirect_uri = get("redirect_uri");
    let mut target = url::Url::parse(&redirect_uri).unwrap();
    if *inner.misbehaviour.lock().unwrap() == Some(Misbehaviour::Deny) {
        target
            .query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("error_description", "The user said no")
            .append_pair("state", &get("state"));
        return Redirect::to(target.as_str()).into_response();
    }
    let code = uuid::Uuid::new_v4().simple().to_string();
    inner.codes.lock().unwrap().insert(
        code.clone(),
        Grant {
            redirect_uri,
            challenge: get("code_challenge"),
            nonce: get("nonce"),
            user: inner.user.lock().unwrap().clone(),
        },
    );
    target
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &get("state"));
    Redirect::to(target.as_str()).into_response()
}

async fn token(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok());
    if basic.as_deref() != Some(&format!("{CLIENT_ID}:{CLIENT_SECRET}")) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    if form.grant_type != "authorization_code" {
        return refuse("unsupported_grant_type", "");
    }
    let Some(grant) = inner.codes.lock().unwrap().remove(&form.code) else {
        return refuse("invalid_grant", "unknown or used code");
    };
    if grant.redirect_uri != form.redirect_uri {
        return refuse("invalid_grant", "redirect_uri differs");
    }
    let verifier = form.code_verifier.unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge {
        return refuse("invalid_grant", "PKCE verification failed");
    }
    let now = jsonwebtoken::get_current_timestamp();
    let misbehaviour = *inner.misbehaviour.lock().unwrap();
    let claims = json!({
        "iss": inner.base,
        "sub": format!("sub-{}", grant.user.0),
        "aud": if misbehaviour == Some(Misbehaviour::WrongAudience) { "someone-else" } else { CLIENT_ID },
        "exp": if misbehaviour == Some(Misbehaviour::Expired) { now - 3600 } else { now + 300 },
        "iat": now,
        "nonce": if misbehaviour == Some(Misbehaviour::WrongNonce) { "not-the-nonce".to_owned() } else { grant.nonce },
        "preferred_username": grant.user.0,
        "name": grant.user.1,
        "email": format!("{}@example.com", grant.user.0),
    });
    let id_token = inner.key.sign(Some("JWT"), &claims);
    Json(json!({
        "access_token": "opaque-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token,
    }))
    .into_response()
}
