//! An in-process GitHub (OAuth app endpoints and `GET /user`) on 127.0.0.1, answering as
//! github.com does: the authorize page signs the configured login in at once; the token endpoint
//! checks the client id and secret, the code (once, for its redirect URI) and the PKCE verifier,
//! and answers a bad code with `200 {"error": "bad_verification_code"}` as GitHub does; `/user`
//! needs the issued token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "Iv1.fawkes";
pub const CLIENT_SECRET: &str = "github-s3cret";

struct Inner {
    login: Mutex<(String, Option<String>)>,
    codes: Mutex<HashMap<String, (String, String, String)>>,
    tokens: Mutex<HashMap<String, (String, Option<String>)>>,
}

pub struct FakeGithub {
    pub base: String,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Deserialize)]
struct TokenForm {
    client_id: String,
    client_secret: String,
    code: String,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
}

impl FakeGithub {
    pub async fn start() -> FakeGithub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Inner {
            login: Mutex::new(("octo-cat".into(), Some("The Octocat".into()))),
            codes: Mutex::default(),
            tokens: Mutex::default(),
        });
        let app = axum::Router::new()
            .route("/login/oauth/authorize", get(authorize))
            .route("/login/oauth/access_token", post(token))
            .route("/api/v3/user", get(user))
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeGithub { base, inner, task }
    }

    pub fn sign_in_as(&self, login: &str, name: Option<&str>) {
        *self.inner.login.lock().unwrap() = (login.into(), name.map(str::to_owned));
    }

    pub fn configure(&self, settings: &mut fawkes_portal::config::Settings) {
        settings.ui.github.client_id = CLIENT_ID.into();
        settings.ui.github.client_secret = CLIENT_SECRET.into();
        settings.ui.github.url = self.base.clone();
        settings.ui.github.api_url = format!("{}/api/v3", self.base);
    }
}

impl Drop for FakeGithub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn authorize(
    State(inner): State<Arc<Inner>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| query.get(k).cloned().unwrap_or_default();
    if get("client_id") != CLIENT_ID || get("code_challenge_method") != "S256" {
        return (StatusCode::NOT_FOUND, "unknown application").into_response();
    }
    let code = uuid::Uuid::new_v4().simple().to_string();
    let redirect_uri = get("redirect_uri");
    inner.codes.lock().unwrap().insert(
        code.clone(),
        (redirect_uri.clone(), get("code_challenge"), String::new()),
    );
    let mut target = url::Url::parse(&redirect_uri).unwrap();
    target
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &get("state"));
    Redirect::to(target.as_str()).into_response()
}

async fn token(State(inner): State<Arc<Inner>>, Form(form): Form<TokenForm>) -> Response {
    if form.client_id != CLIENT_ID || form.client_secret != CLIENT_SECRET {
        return Json(json!({"error": "incorrect_client_credentials",
            "error_description": "The client_id and/or client_secret passed are incorrect."}))
        .into_response();
    }
    let grant = inner.codes.lock().unwrap().remove(&form.code);
    let bad_code = || {
        Json(json!({"error": "bad_verification_code",
            "error_description": "The code passed is incorrect or expired."}))
        .into_response()
    };
    let Some((redirect_uri, challenge, _)) = grant else {
        return bad_code();
    };
    let verifier = form.code_verifier.unwrap_or_default();
    if form.redirect_uri.as_deref() != Some(redirect_uri.as_str())
        || URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != challenge
    {
        return bad_code();
    }
    let token = format!("gho_{}", uuid::Uuid::new_v4().simple());
    inner
        .tokens
        .lock()
        .unwrap()
        .insert(token.clone(), inner.login.lock().unwrap().clone());
    Json(json!({"access_token": token, "token_type": "bearer", "scope": "read:user"}))
        .into_response()
}

async fn user(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    match inner.tokens.lock().unwrap().get(token) {
        Some((login, name)) => Json(json!({"login": login, "id": 1, "name": name})).into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Bad credentials"})),
        )
            .into_response(),
    }
}
