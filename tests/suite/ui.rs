//! The web UI, in process: sign-in (guest, OpenID Connect against an in-process provider, GitHub
//! against an in-process GitHub), sessions and their expiry, CSRF, every page's status and
//! content, isolation between users in every page and fragment, and the session store's
//! contract on both databases. The real-browser tests (Playwright and axe-core driving Chromium
//! against the real binary) are in `browser.rs`.

mod browser;
mod catalog;
mod dashboard;
mod pages;
mod sessions;
mod sign_in;

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::body::Body;
use axum::http::{Method, Request, header};
use fawkes_portal::principal::Principal;

use crate::support::{TestApp, TestResponse};

/// A browser in front of a [`TestApp`]: keeps cookies, sends forms, never a bearer token.
pub struct Browser<'a> {
    app: &'a TestApp,
    cookies: Mutex<BTreeMap<String, String>>,
    headers: Vec<(String, String)>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Browser<'a> {
        Browser {
            app,
            cookies: Mutex::default(),
            headers: Vec::new(),
        }
    }

    /// Sends `header` with every request (e.g. `hx-request: true`).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// A browser already signed in as `subject` (a session started through the service).
    pub async fn signed_in_as(app: &'a TestApp, subject: &str) -> Browser<'a> {
        let (token, _) = app
            .app
            .state()
            .ui
            .sessions
            .start(Principal::user(subject), subject, "oidc")
            .await
            .unwrap();
        let browser = Browser::new(app);
        browser.set_cookie("fawkes_session", &token);
        browser
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies
            .lock()
            .unwrap()
            .insert(name.into(), value.into());
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        form: Option<&[(&str, &str)]>,
        extra: &[(&str, &str)],
    ) -> TestResponse {
        let mut request = Request::builder().method(method).uri(path);
        let cookies: Vec<String> = self
            .cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !cookies.is_empty() {
            request = request.header(header::COOKIE, cookies.join("; "));
        }
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        let body = match form {
            Some(fields) => {
                request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(
                    url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(fields)
                        .finish(),
                )
            }
            None => Body::empty(),
        };
        let response = self.app.send_anonymous(request.body(body).unwrap()).await;
        for set in response.headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.lock().unwrap().remove(name);
            } else {
                self.set_cookie(name, value);
            }
        }
        response
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.request(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> TestResponse {
        self.request(Method::POST, path, Some(form), &[]).await
    }

    /// Signs in as the guest through the sign-in page's form.
    pub async fn sign_in_guest(&self) -> TestResponse {
        let page = self.get("/sign-in").await;
        let token = csrf(&page.text());
        self.post("/sign-in/guest", &[("_csrf", &token), ("next", "/")])
            .await
    }

    /// The CSRF token of the signed-in session, from a page's forms.
    pub async fn csrf(&self) -> String {
        csrf(&self.get("/workspaces").await.text())
    }
}

/// The value of the first `_csrf` field in `html`.
pub fn csrf(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let at = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[at..].split('"').next().unwrap().to_owned()
}
