//! GitHub OAuth sign-in, the provider Fawkes' Backstage uses: the browser goes to
//! `<github>/login/oauth/authorize`, the callback's code is traded at
//! `<github>/login/oauth/access_token` (with the client secret and the PKCE verifier), and the
//! person is whoever `GET <api>/user` says, as `user:default/<login>` (Backstage's
//! `usernameMatchingUserEntityName`: the GitHub login is the user entity's name).

use serde::Deserialize;

use super::{Identity, LoginError, PROVIDER_TIMEOUT, call, form, identity};
use crate::auth::session::{PendingLogin, pkce_challenge};
use crate::config::ui::GithubConfig;

/// GitHub sign-in, with its own HTTP client.
pub struct GithubLogin {
    config: GithubConfig,
    client: reqwest::Client,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct User {
    login: String,
    name: Option<String>,
}

impl GithubLogin {
    /// Sign-in with the GitHub OAuth app of `config`.
    pub fn new(config: GithubConfig) -> anyhow::Result<GithubLogin> {
        Ok(GithubLogin {
            config,
            client: crate::fetch::client(PROVIDER_TIMEOUT, None)?,
        })
    }

    fn endpoint(&self, path: &str) -> Result<url::Url, LoginError> {
        let base = self.config.url.as_str().trim_end_matches('/');
        url::Url::parse(&format!("{base}{path}"))
            .map_err(|e| LoginError::Unavailable(format!("ui.github.url: {e}")))
    }

    /// Where to send the browser for this sign-in.
    pub fn authorize_url(
        &self,
        login: &PendingLogin,
        redirect_uri: &str,
    ) -> Result<url::Url, LoginError> {
        let mut url = self.endpoint("/login/oauth/authorize")?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", "read:user")
            .append_pair("state", &login.state)
            .append_pair("code_challenge", &pkce_challenge(&login.verifier))
            .append_pair("code_challenge_method", "S256")
            .append_pair("allow_signup", "false");
        Ok(url)
    }

    /// Trades the callback's code for a token and asks GitHub whose it is.
    pub async fn finish(
        &self,
        code: &str,
        login: &PendingLogin,
        redirect_uri: &str,
    ) -> Result<Identity, LoginError> {
        let body = form(&[
            ("client_id", &self.config.client_id),
            ("client_secret", &self.config.client_secret),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", &login.verifier),
        ]);
        let request = self
            .client
            .post(self.endpoint("/login/oauth/access_token")?)
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        let (status, body) = call(request).await?;
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|_| {
            LoginError::Unavailable(format!(
                "GitHub's token endpoint answered status {status} without JSON"
            ))
        })?;
        // GitHub answers 200 with an `error` field for a bad code or secret.
        if let Some(error) = answer.error {
            let detail = answer.error_description.unwrap_or_default();
            return Err(LoginError::Refused(
                format!("{error} {detail}").trim().to_owned(),
            ));
        }
        let token = answer
            .access_token
            .filter(|_| status == 200)
            .ok_or_else(|| {
                LoginError::Invalid(format!(
                    "GitHub's token endpoint answered status {status} without an access token"
                ))
            })?;
        let api = self.config.api_url.as_str().trim_end_matches('/');
        let request = self
            .client
            .get(format!("{api}/user"))
            .bearer_auth(token)
            .header("accept", "application/vnd.github+json")
            .header("user-agent", "fawkes-portal");
        let (status, body) = call(request).await?;
        if status != 200 {
            return Err(LoginError::Refused(format!(
                "GET /user answered status {status}"
            )));
        }
        let user: User = serde_json::from_slice(&body)
            .map_err(|e| LoginError::Invalid(format!("GET /user: {e}")))?;
        identity(&user.login, user.name.as_deref())
    }
}
