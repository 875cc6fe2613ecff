//! Reading a devfile from its URL through the guarded fetcher (`[fetch]`: HTTPS only, allowed
//! hosts, no private addresses, timeout, size cap, GitHub/GitLab `blob` URLs read raw). Problems
//! with the URL itself are `Invalid devfileUrl`; trouble reaching it says what happened.

use crate::fetch::{FetchError, Fetched, Fetcher};

use super::service::WorkspaceError;

/// Where devfiles come from: HTTPS URLs through the guarded fetcher, GitHub and GitLab `blob` URLs read as raw files.
#[derive(Clone)]
pub struct DevfileSource {
    fetcher: Fetcher,
}

impl DevfileSource {
    /// Devfiles through `fetcher`.
    pub fn new(fetcher: Fetcher) -> Self {
        Self { fetcher }
    }

    /// The devfile's text.
    pub async fn text(&self, url: &url::Url) -> Result<String, WorkspaceError> {
        self.read(url).await.map_err(|(refused, message)| {
            if refused {
                WorkspaceError::InvalidDevfileUrl(message)
            } else {
                WorkspaceError::Fetch(message)
            }
        })
    }

    /// A parent devfile's text: every problem is the parent's.
    pub async fn parent_text(&self, url: &url::Url) -> Result<String, WorkspaceError> {
        self.read(url)
            .await
            .map_err(|(_, message)| WorkspaceError::Parent(format!("cannot read {url}: {message}")))
    }

    /// The text at `url`, or whether the URL itself was refused and why.
    async fn read(&self, url: &url::Url) -> Result<String, (bool, String)> {
        let body = match self.fetcher.get(url.as_str(), None).await {
            Ok(Fetched::Body { body, .. }) => body,
            Ok(Fetched::NotModified) => {
                return Err((
                    false,
                    "the source answered 304 Not Modified to an unconditional request".into(),
                ));
            }
            Err(
                e @ (FetchError::InvalidUrl(_)
                | FetchError::NotHttps
                | FetchError::HostNotAllowed { .. }
                | FetchError::CredentialsInUrl
                | FetchError::ForbiddenAddress { .. }),
            ) => return Err((true, e.to_string())),
            Err(e) => return Err((false, format!("{url}: {e}"))),
        };
        String::from_utf8(body.to_vec())
            .map_err(|_| (false, format!("{url}: the devfile is not UTF-8 text")))
    }
}
