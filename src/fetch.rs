//! Outbound HTTP. [`Fetcher`] is the one guarded path for everything fetched on a user's behalf
//! (catalog locations, devfiles): HTTPS only, hosts on `[fetch] allow_hosts`, loopback, private and
//! link-local addresses refused after DNS resolution and on every redirect (unless an allow-list
//! entry names such a host), an entry's port held on every hop, no credentials in a URL (they come
//! from `[[fetch.credentials]]`, sent only to their own `host:port`), a timeout and a size cap, and
//! GitHub/GitLab `blob` URLs read as raw content. Key sets (JWKS) come from URLs the operator configured, through [`client`] and
//! [`get_limited`], with the same timeout, size cap and no redirects.

mod address;
mod resolve;
mod rewrite;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use reqwest::header::{self, HeaderValue};

pub use address::{is_forbidden, names_private_host};
pub use resolve::{Lookup, SystemLookup};
pub use rewrite::{RawSource, raw_source};

use crate::config::fetch::FetchConfig;

/// Redirects followed at most.
pub const MAX_REDIRECTS: usize = 5;

/// What can go wrong fetching. `Display` is a message for the person whose request needed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Not a URL; the parser's reason.
    #[error("not a valid URL: {0}")]
    InvalidUrl(String),
    /// Not `https:`.
    #[error("URL must be HTTPS")]
    NotHttps,
    /// The host (and port) is not in `fetch.allow_hosts`.
    #[error("host '{host}' is not allowed (fetch.allow_hosts)")]
    HostNotAllowed {
        /// The host (and port) asked for.
        host: String,
    },
    /// The URL carries `user:password@`.
    #[error(
        "a URL may not carry credentials (user:password@): configure a token for the host in [[fetch.credentials]]"
    )]
    CredentialsInUrl,
    #[error(
        "'{host}' resolves to a loopback, private or link-local address, which is not allowed (fetch.allow_hosts)"
    )]
    /// The host resolves to an address the guard refuses.
    ForbiddenAddress {
        /// The host asked for.
        host: String,
    },
    /// No complete answer within `fetch.timeout`.
    #[error("no answer within {secs}s (fetch.timeout)")]
    Timeout {
        /// The timeout.
        secs: u64,
    },
    /// The source answered with an error status.
    #[error("the source answered {status} {}", reqwest::StatusCode::from_u16(*status).ok().and_then(|s| s.canonical_reason()).unwrap_or(""))]
    Status {
        /// The status.
        status: u16,
    },
    /// The body is larger than `fetch.max_bytes`.
    #[error("larger than {max} bytes (fetch.max_bytes)")]
    TooLarge {
        /// The cap.
        max: usize,
    },
    /// The connection failed.
    #[error("cannot connect: {reason}")]
    Connect {
        /// Why.
        reason: String,
    },
    /// More redirects than allowed.
    #[error("too many redirects (more than {MAX_REDIRECTS})")]
    TooManyRedirects,
}

/// Cache validators of a fetched document, for a conditional request next time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag` the source sent.
    pub etag: Option<String>,
    /// The `Last-Modified` the source sent.
    pub last_modified: Option<String>,
}

/// A fetch's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The document.
    Body {
        /// Where it was read, after redirects.
        final_url: url::Url,
        /// Its bytes.
        body: Bytes,
        /// What makes the next fetch conditional.
        validators: Validators,
    },
    /// The conditional request found the document unchanged (304).
    NotModified,
}

/// The guarded fetcher. Cheap to clone.
#[derive(Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    config: FetchConfig,
}

impl Fetcher {
    /// The fetcher `config` describes (allow-list, timeout, size cap, extra CA, GitHub token).
    pub fn new(config: &FetchConfig) -> anyhow::Result<Fetcher> {
        Self::with_lookup(config, Arc::new(SystemLookup))
    }

    /// As [`Fetcher::new`], resolving names with `lookup` (tests map names to chosen addresses).
    pub fn with_lookup(config: &FetchConfig, lookup: Arc<dyn Lookup>) -> anyhow::Result<Fetcher> {
        let private_ok: HashSet<String> = config
            .allow_hosts
            .iter()
            .filter(|h| names_private_host(&h.host))
            .map(|h| h.host.clone())
            .collect();
        let resolver = resolve::GuardedResolver::new(lookup, private_ok);
        let client = builder(config.timeout, config.extra_ca_file.as_deref())?
            .dns_resolver(Arc::new(resolver))
            .build()?;
        Ok(Fetcher {
            inner: Arc::new(Inner {
                client,
                config: config.clone(),
            }),
        })
    }

    /// GETs `url` under the guard; with `validators`, as a conditional request.
    pub async fn get(
        &self,
        url: &str,
        validators: Option<&Validators>,
    ) -> Result<Fetched, FetchError> {
        let requested =
            url::Url::parse(url.trim()).map_err(|e| FetchError::InvalidUrl(e.to_string()))?;
        self.check(&requested, None)?;
        let source = raw_source(&requested, self.inner.config.github_token.is_some());
        // The raw host (and port) a blob URL maps to is part of reading that host, so it is
        // allowed with it; nothing else is, on any hop.
        let derived = (source.url != requested)
            .then(|| host_port(&source.url))
            .transpose()?;
        let mut current = source.url;
        for _ in 0..=MAX_REDIRECTS {
            self.check(&current, derived.as_ref())?;
            let response = self
                .request(&current, validators, source.github_api)
                .send()
                .await
                .map_err(|e| transfer_error(&e, self.inner.config.timeout))?;
            let status = response.status();
            if status.is_redirection() && status != reqwest::StatusCode::NOT_MODIFIED {
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or(FetchError::Status {
                        status: status.as_u16(),
                    })?;
                current = current
                    .join(location)
                    .map_err(|e| FetchError::InvalidUrl(e.to_string()))?;
                continue;
            }
            if status == reqwest::StatusCode::NOT_MODIFIED {
                return Ok(Fetched::NotModified);
            }
            if !status.is_success() {
                return Err(FetchError::Status {
                    status: status.as_u16(),
                });
            }
            let header = |name| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v: &HeaderValue| v.to_str().ok())
                    .map(str::to_owned)
            };
            let validators = Validators {
                etag: header(header::ETAG),
                last_modified: header(header::LAST_MODIFIED),
            };
            let body = read_limited(
                response,
                self.inner.config.max_bytes,
                self.inner.config.timeout,
            )
            .await?;
            return Ok(Fetched::Body {
                final_url: current,
                body,
                validators,
            });
        }
        Err(FetchError::TooManyRedirects)
    }

    /// HTTPS, no credentials, an allowed `host:port` (or the `derived` raw one), and no forbidden
    /// IP literal.
    fn check(&self, url: &url::Url, derived: Option<&(String, u16)>) -> Result<(), FetchError> {
        if url.scheme() != "https" {
            return Err(FetchError::NotHttps);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::CredentialsInUrl);
        }
        let (host, port) = host_port(url)?;
        let allowed = derived.is_some_and(|(h, p)| *h == host && *p == port)
            || self
                .inner
                .config
                .allow_hosts
                .iter()
                .any(|entry| entry.host == host && entry.port.is_none_or(|p| p == port));
        if !allowed {
            let named = |entry: &&crate::config::fetch::AllowedHost| entry.host == host;
            let host = match self.inner.config.allow_hosts.iter().find(named) {
                // The host is listed, for another port: say which port was refused.
                Some(_) => format!("{host}:{port}"),
                None => host,
            };
            return Err(FetchError::HostNotAllowed { host });
        }
        // IP literals never reach the resolver, so their range is checked here.
        if let Ok(ip) = host.parse::<std::net::IpAddr>()
            && is_forbidden(ip)
            && !names_private_host(&host)
        {
            return Err(FetchError::ForbiddenAddress { host });
        }
        Ok(())
    }

    fn request(
        &self,
        url: &url::Url,
        validators: Option<&Validators>,
        github_api: bool,
    ) -> reqwest::RequestBuilder {
        let mut request = self.inner.client.get(url.clone());
        if let Some(validators) = validators {
            if let Some(etag) = &validators.etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(modified) = &validators.last_modified {
                request = request.header(header::IF_MODIFIED_SINCE, modified);
            }
        }
        if github_api && let Some(token) = &self.inner.config.github_token {
            request = request
                .bearer_auth(token)
                .header(header::ACCEPT, "application/vnd.github.raw");
        } else if let Ok((host, port)) = host_port(url)
            && let Some(credential) = self
                .inner
                .config
                .credentials
                .iter()
                .find(|c| c.host == host && c.port == port)
        {
            // Only to the credential's own host and port, checked again on every hop.
            request = request.header(header::AUTHORIZATION, &credential.authorization);
        }
        request
    }
}

/// A URL's lower-case host (IPv6 without brackets) and port.
fn host_port(url: &url::Url) -> Result<(String, u16), FetchError> {
    let host = match url.host() {
        Some(url::Host::Domain(name)) => name.to_ascii_lowercase(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(FetchError::InvalidUrl("the URL has no host".into())),
    };
    Ok((host, url.port_or_known_default().unwrap_or(443)))
}

/// Installs rustls' ring provider for the process (once; later calls do nothing).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn builder(timeout: Duration, extra_ca: Option<&Path>) -> anyhow::Result<reqwest::ClientBuilder> {
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
    Ok(builder)
}

/// A client with a timeout, no redirects, and (optionally) an extra trusted CA, for URLs the
/// operator configured (key sets).
pub fn client(timeout: Duration, extra_ca: Option<&Path>) -> anyhow::Result<reqwest::Client> {
    Ok(builder(timeout, extra_ca)?.build()?)
}

/// Sends `request` and reads the body, refusing more than `max` bytes and any non-2xx status.
pub async fn get_limited(
    request: reqwest::RequestBuilder,
    max: usize,
) -> Result<Bytes, FetchError> {
    let (status, body) = send_limited(request, max).await?;
    if !(200..300).contains(&status) {
        return Err(FetchError::Status { status });
    }
    Ok(body)
}

/// Sends `request` and reads the body whatever the status (an OAuth token endpoint explains a
/// refusal in a 400's body), refusing more than `max` bytes.
pub async fn send_limited(
    request: reqwest::RequestBuilder,
    max: usize,
) -> Result<(u16, Bytes), FetchError> {
    let (client, request) = request.build_split();
    let request = request.map_err(|e| FetchError::InvalidUrl(e.to_string()))?;
    let timeout = request
        .timeout()
        .copied()
        .unwrap_or(Duration::from_secs(30));
    let response = client
        .execute(request)
        .await
        .map_err(|e| transfer_error(&e, timeout))?;
    let status = response.status().as_u16();
    Ok((status, read_limited(response, max, timeout).await?))
}

async fn read_limited(
    mut response: reqwest::Response,
    max: usize,
    timeout: Duration,
) -> Result<Bytes, FetchError> {
    if response
        .content_length()
        .is_some_and(|len| len > max as u64)
    {
        return Err(FetchError::TooLarge { max });
    }
    let mut body = Vec::new();
    loop {
        let chunk = response
            .chunk()
            .await
            .map_err(|e| transfer_error(&e, timeout))?;
        let Some(chunk) = chunk else { break };
        if body.len() + chunk.len() > max {
            return Err(FetchError::TooLarge { max });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.into())
}

/// A failed transfer as the person who asked for it should read it: a timeout, an address the
/// resolver refused, or the innermost connection error.
/// The TLS error in `err`, which arrives wrapped in io::Errors (whose `source()` skips it).
fn tls_error<'a>(mut err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    loop {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        err = err.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

/// What to do about a self-signed CA certificate served as the server's own certificate.
const CA_AS_SERVER_CERTIFICATE: &str = "the server's certificate is a CA certificate \
    (basicConstraints CA:TRUE), which TLS (rustls) refuses as a server certificate even when it is \
    trusted; give the server a server certificate signed by that CA, and trust the CA \
    (fetch.extra_ca_file)";

fn transfer_error(err: &reqwest::Error, timeout: Duration) -> FetchError {
    if err.is_timeout() {
        return FetchError::Timeout {
            secs: timeout.as_secs().max(1),
        };
    }
    let mut reason = err.to_string();
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(inner) = source {
        if let Some(refused) = inner.downcast_ref::<resolve::ForbiddenResolution>() {
            return FetchError::ForbiddenAddress {
                host: refused.0.clone(),
            };
        }
        if let Some(rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other))) =
            tls_error(inner)
            // webpki's error, which we do not depend on by name.
            && format!("{other:?}").contains("CaUsedAsEndEntity")
        {
            return FetchError::Connect {
                reason: CA_AS_SERVER_CERTIFICATE.to_owned(),
            };
        }
        reason = inner.to_string();
        source = inner.source();
    }
    FetchError::Connect { reason }
}
