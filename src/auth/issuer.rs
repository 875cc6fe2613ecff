//! The built-in token issuer, for setups without Backstage's auth backend: an ES256 key created in
//! the data directory at first use (file mode 0600), public keys served at
//! `/api/auth/.well-known/jwks.json`, and `fawkes-portal token issue` to mint tokens. User tokens
//! have Backstage's user-token format, so clients treat them alike.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::claims::{BACKSTAGE_AUDIENCE, SERVICE_TYP, USER_TYP};
use super::jwks::Key;
use crate::config::auth::IssuerConfig;

/// `aud` of the service tokens the built-in issuer signs.
pub const SERVICE_AUDIENCE: &str = "fawkes-portal";
/// The key file, relative to the data directory.
pub const KEY_FILE: &str = "auth/issuer-es256.pem";

/// Whom a token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSubject {
    /// A user entity ref such as `user:default/jdoe`.
    User(String),
    /// A service name such as `ci-bot`.
    Service(String),
}

impl TokenSubject {
    /// `jdoe` becomes `user:default/jdoe`; a full ref (`user:team-a/jdoe`) is kept.
    pub fn user(name: &str) -> Result<TokenSubject, String> {
        let name = name.trim();
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        let entity_ref = match name.split_once(':') {
            None => format!("user:default/{name}"),
            Some((kind, rest)) if kind.eq_ignore_ascii_case("user") => format!("user:{rest}"),
            Some(_) => return Err(format!("'{name}' is not a user name or a user entity ref")),
        };
        let (_, rest) = entity_ref.split_once(':').unwrap_or_default();
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.len() != 2 || !parts.iter().all(|p| valid(p)) {
            return Err(format!(
                "'{name}' is not a user name (letters, digits, -_.) or a ref like user:default/jdoe"
            ));
        }
        Ok(TokenSubject::User(entity_ref))
    }

    /// A service subject: a name without whitespace.
    pub fn service(name: &str) -> Result<TokenSubject, String> {
        let name = name.trim();
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return Err(format!("'{name}' is not a service name (no whitespace)"));
        }
        Ok(TokenSubject::Service(name.to_owned()))
    }
}

/// The built-in token issuer: an ES256 key kept in the data directory, tokens in Backstage's user-token format, and the JWKS that verifies them.
pub struct BuiltInIssuer {
    config: IssuerConfig,
    kid: String,
    encoding: EncodingKey,
    verification: Arc<Key>,
    jwks: serde_json::Value,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

impl BuiltInIssuer {
    /// Loads the signing key from `auth.issuer.key_file` when set (never created: a mounted
    /// Secret that every replica shares), else from `<data_dir>/auth/issuer-es256.pem`, creating
    /// that if missing.
    pub fn load_or_create(data_dir: &Path, config: &IssuerConfig) -> anyhow::Result<BuiltInIssuer> {
        super::install_crypto();
        let secret = match &config.key_file {
            Some(path) => read_key_file(path)?,
            None => {
                let path = data_dir.join(KEY_FILE);
                let pem = read_or_create_key(&path)?;
                p256::SecretKey::from_pkcs8_pem(&pem).map_err(|e| {
                    anyhow::anyhow!("{} is not a PKCS#8 P-256 private key: {e}", path.display())
                })?
            }
        };
        let pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| anyhow::anyhow!("cannot encode the key: {e}"))?;
        let public = serde_json::to_value(secret.public_key().to_jwk())?;
        let (x, y) = (
            public["x"].as_str().unwrap_or_default(),
            public["y"].as_str().unwrap_or_default(),
        );
        // RFC 7638 thumbprint: the key's own fingerprint, stable across restarts.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        let decoding = DecodingKey::from_ec_components(x, y)?;
        let jwks = serde_json::json!({"keys": [{
            "kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "alg": "ES256", "use": "sig"
        }]});
        Ok(BuiltInIssuer {
            config: config.clone(),
            encoding: EncodingKey::from_ec_pem(pem.as_bytes())?,
            verification: Arc::new(Key {
                decoding,
                alg: Some(Algorithm::ES256),
            }),
            kid,
            jwks,
        })
    }

    /// The `iss` of its tokens.
    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// The key id (`kid`) of its signing key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key that verifies its tokens.
    pub fn verification_key(&self) -> Arc<Key> {
        self.verification.clone()
    }

    /// The public keys, as served at `/api/auth/.well-known/jwks.json`.
    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }

    /// A signed token for `subject`, valid for `ttl` (default `auth.issuer.default_ttl`, at most
    /// `auth.issuer.max_ttl`) from `now` (epoch seconds).
    pub fn issue(
        &self,
        subject: &TokenSubject,
        ttl: Option<Duration>,
        now: u64,
    ) -> Result<String, String> {
        let ttl = ttl.unwrap_or(self.config.default_ttl);
        if ttl > self.config.max_ttl || ttl.is_zero() {
            return Err(format!(
                "the lifetime must be between 1s and {} (auth.issuer.max_ttl)",
                humantime::format_duration(self.config.max_ttl)
            ));
        }
        let (typ, sub, aud) = match subject {
            TokenSubject::User(entity_ref) => (USER_TYP, entity_ref, BACKSTAGE_AUDIENCE),
            TokenSubject::Service(name) => (SERVICE_TYP, name, SERVICE_AUDIENCE),
        };
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(typ.to_owned());
        header.kid = Some(self.kid.clone());
        let claims = Claims {
            iss: &self.config.issuer,
            sub,
            aud,
            iat: now,
            exp: now + ttl.as_secs(),
        };
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| format!("cannot sign the token: {e}"))
    }
}

/// Reads the configured key: a P-256 private key in PKCS#8 (`BEGIN PRIVATE KEY`, from `openssl
/// genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`) or SEC1 (`BEGIN EC PRIVATE KEY`, from
/// `openssl ecparam -name prime256v1 -genkey`) PEM.
fn read_key_file(path: &Path) -> anyhow::Result<p256::SecretKey> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read auth.issuer.key_file {}: {e}", path.display()))?;
    p256::SecretKey::from_pkcs8_pem(&pem)
        .or_else(|_| p256::SecretKey::from_sec1_pem(&pem))
        .map_err(|_| {
            anyhow::anyhow!(
                "auth.issuer.key_file {} is not a P-256 private key in PEM (PKCS#8 or SEC1); \
                 make one with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`",
                path.display()
            )
        })
}

/// Reads the key file, or creates it (directory 0700, file 0600) with a fresh P-256 key. Two
/// processes starting together agree: only one creates the file, the other reads it.
fn read_or_create_key(path: &PathBuf) -> anyhow::Result<String> {
    if let Ok(pem) = std::fs::read_to_string(path) {
        return Ok(pem);
    }
    let dir = path.parent().expect("the key file has a directory");
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    let pem = secret
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("cannot encode the key: {e}"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(pem.as_bytes())?;
            file.sync_all()?;
            tracing::info!(path = %path.display(), "created the built-in issuer's signing key");
            Ok(pem.to_string())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(std::fs::read_to_string(path)?)
        }
        Err(e) => Err(anyhow::anyhow!(
            "cannot create the signing key {}: {e}",
            path.display()
        )),
    }
}
