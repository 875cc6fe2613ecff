//! Outbound HTTP: every fetch has a timeout, a size cap, and follows no redirects unless asked.
//! Key sets (JWKS) come only from URLs the operator configured, so their allow-list is the
//! configuration itself. Catalog locations and devfiles will add a host allow-list and the refusal
//! of private addresses here, so every feature fetches through one guarded path.

use std::path::Path;
use std::time::Duration;

use axum::body::Bytes;

/// What can go wrong fetching, worded for the person whose request needed it.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url} did not answer within {secs}s")]
    Timeout { url: String, secs: u64 },
    #[error("{url} answered {status}")]
    Status { url: String, status: u16 },
    #[error("{url} sent more than {max} bytes")]
    TooLarge { url: String, max: usize },
    #[error("cannot reach {url}: {reason}")]
    Connect { url: String, reason: String },
}

/// Installs rustls' ring provider for the process (once; later calls do nothing).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client with a timeout, no redirects, and (optionally) an extra trusted CA.
pub fn client(timeout: Duration, extra_ca: Option<&Path>) -> anyhow::Result<reqwest::Client> {
    install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("fawkes-portal/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = extra_ca {
        let pem = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("cannot read CA file {}: {e}", path.display()))?;
        for cert in reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            anyhow::anyhow!("{} is not a PEM certificate bundle: {e}", path.display())
        })? {
            builder = builder.add_root_certificate(cert);
        }
    }
    Ok(builder.build()?)
}

/// Sends `request` and reads the body, refusing more than `max` bytes and any non-2xx status.
pub async fn get_limited(
    request: reqwest::RequestBuilder,
    max: usize,
) -> Result<Bytes, FetchError> {
    let (client, request) = request.build_split();
    let request = request.map_err(|e| FetchError::Connect {
        url: String::new(),
        reason: e.to_string(),
    })?;
    let url = request.url().to_string();
    let timeout = request
        .timeout()
        .copied()
        .unwrap_or(Duration::from_secs(30));
    let mut response = client
        .execute(request)
        .await
        .map_err(|e| describe(&url, timeout, &e))?;
    if !response.status().is_success() {
        return Err(FetchError::Status {
            url,
            status: response.status().as_u16(),
        });
    }
    if response
        .content_length()
        .is_some_and(|len| len > max as u64)
    {
        return Err(FetchError::TooLarge { url, max });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| describe(&url, timeout, &e))?
    {
        if body.len() + chunk.len() > max {
            return Err(FetchError::TooLarge { url, max });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.into())
}

fn describe(url: &str, timeout: Duration, err: &reqwest::Error) -> FetchError {
    if err.is_timeout() {
        return FetchError::Timeout {
            url: url.to_owned(),
            secs: timeout.as_secs().max(1),
        };
    }
    let mut reason = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        reason = inner.to_string();
        source = inner.source();
    }
    FetchError::Connect {
        url: url.to_owned(),
        reason,
    }
}
