//! Name resolution for the guarded fetcher: every address a name resolves to is checked, and
//! forbidden ones are dropped before a connection is made, so a name cannot be pointed (or
//! re-pointed, DNS rebinding) at an internal address.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::address::is_forbidden;

/// Resolves a host name to addresses.
pub trait Lookup: Send + Sync + 'static {
    /// The addresses of `host`.
    fn lookup(
        &self,
        host: String,
    ) -> futures_util::future::BoxFuture<'static, std::io::Result<Vec<SocketAddr>>>;
}

/// The system resolver.
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(
        &self,
        host: String,
    ) -> futures_util::future::BoxFuture<'static, std::io::Result<Vec<SocketAddr>>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.collect()) })
    }
}

/// The error for a name that resolves only to forbidden addresses.
#[derive(Debug)]
pub struct ForbiddenResolution(pub String);

impl std::fmt::Display for ForbiddenResolution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} resolves only to forbidden addresses", self.0)
    }
}

impl std::error::Error for ForbiddenResolution {}

pub struct GuardedResolver {
    lookup: Arc<dyn Lookup>,
    /// Hosts whose allow-list entry names a private host: their addresses are not filtered.
    private_ok: Arc<HashSet<String>>,
}

impl GuardedResolver {
    pub fn new(lookup: Arc<dyn Lookup>, private_ok: HashSet<String>) -> Self {
        Self {
            lookup,
            private_ok: Arc::new(private_ok),
        }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let lookup = self.lookup.lookup(host.clone());
        let private_ok = self.private_ok.clone();
        Box::pin(async move {
            let addresses = lookup.await?;
            let usable: Vec<SocketAddr> = if private_ok.contains(&host) {
                addresses
            } else {
                addresses
                    .into_iter()
                    .filter(|a| !is_forbidden(a.ip()))
                    .collect()
            };
            if usable.is_empty() {
                return Err(
                    Box::new(ForbiddenResolution(host)) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(usable.into_iter()) as Addrs)
        })
    }
}
