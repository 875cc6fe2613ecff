//! Reading a devfile from its URL. INTERIM: plain bounded HTTPS GET until the guarded fetcher
//! (`crate::fetch::Fetcher`) lands; then this wraps it.

use std::time::Duration;

use super::service::WorkspaceError;

#[derive(Clone)]
pub struct DevfileSource {
    client: reqwest::Client,
    max_bytes: usize,
}

impl DevfileSource {
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            client: crate::fetch::client(Duration::from_secs(10), None)?,
            max_bytes: 5 * 1024 * 1024,
        })
    }

    /// The devfile's text.
    pub async fn text(&self, url: &url::Url) -> Result<String, WorkspaceError> {
        let body = crate::fetch::get_limited(self.client.get(url.as_str()), self.max_bytes)
            .await
            .map_err(|e| WorkspaceError::Fetch(e.to_string()))?;
        String::from_utf8(body.to_vec())
            .map_err(|_| WorkspaceError::Fetch("the devfile is not UTF-8 text".into()))
    }
}
