//! Real signing keys made in the test, and an in-process HTTP server that publishes them as a JWKS
//! (with OpenID discovery), the way Backstage's auth backend and a Kubernetes API server do.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use axum::Json;
use axum::extract::State;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{Value, json};

/// A private key and its public JWK.
pub struct TestKey {
    pub kid: String,
    pub alg: Algorithm,
    encoding: EncodingKey,
    pub jwk: Value,
}

impl TestKey {
    pub fn es256(kid: &str) -> TestKey {
        let secret = p256::SecretKey::random(&mut rand_core::OsRng);
        let pem = secret.to_pkcs8_pem(LineEnding::LF).unwrap();
        let mut jwk = serde_json::to_value(secret.public_key().to_jwk()).unwrap();
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!("ES256");
        jwk["use"] = json!("sig");
        TestKey {
            kid: kid.into(),
            alg: Algorithm::ES256,
            encoding: EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
            jwk,
        }
    }

    pub fn rs256(kid: &str) -> TestKey {
        use rsa::pkcs8::EncodePrivateKey as _;
        use rsa::traits::PublicKeyParts;
        let private = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
        let pem = private.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        let jwk = json!({
            "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
        });
        TestKey {
            kid: kid.into(),
            alg: Algorithm::RS256,
            encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
            jwk,
        }
    }

    /// A token with header `typ` (if any) and `claims`, signed by this key.
    pub fn sign(&self, typ: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.typ = typ.map(str::to_owned);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

/// A token with an arbitrary header and claims and a junk signature (for `alg: none` and friends).
pub fn unsigned(header: &Value, claims: &Value) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!(
        "{}.{}.{}",
        part(header),
        part(claims),
        URL_SAFE_NO_PAD.encode(b"not-a-signature")
    )
}

/// An HMAC-signed token, e.g. with a public key's bytes as the secret (the classic confusion attack).
pub fn hs256(kid: &str, secret: &[u8], claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

#[derive(Clone)]
struct Published {
    keys: Arc<RwLock<Vec<Value>>>,
    fetches: Arc<AtomicUsize>,
    base: String,
}

/// Serves `/api/auth/.well-known/jwks.json` (Backstage's path), `/openid/v1/jwks` and
/// `/.well-known/openid-configuration` (the Kubernetes API server's) on 127.0.0.1.
pub struct JwksServer {
    pub base: String,
    published: Published,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    pub async fn start(keys: &[&TestKey]) -> JwksServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let published = Published {
            keys: Arc::new(RwLock::new(keys.iter().map(|k| k.jwk.clone()).collect())),
            fetches: Arc::default(),
            base: base.clone(),
        };
        async fn jwks(State(p): State<Published>) -> Json<Value> {
            p.fetches.fetch_add(1, Ordering::SeqCst);
            Json(json!({"keys": *p.keys.read().unwrap()}))
        }
        async fn discovery(State(p): State<Published>) -> Json<Value> {
            Json(json!({"issuer": p.base, "jwks_uri": format!("{}/openid/v1/jwks", p.base)}))
        }
        let app = axum::Router::new()
            .route("/api/auth/.well-known/jwks.json", get(jwks))
            .route("/openid/v1/jwks", get(jwks))
            .route("/.well-known/openid-configuration", get(discovery))
            .with_state(published.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        JwksServer {
            base,
            published,
            task,
        }
    }

    /// Replaces the published keys (a rotation).
    pub fn publish(&self, keys: &[&TestKey]) {
        *self.published.keys.write().unwrap() = keys.iter().map(|k| k.jwk.clone()).collect();
    }

    /// How many times the key set was fetched.
    pub fn fetches(&self) -> usize {
        self.published.fetches.load(Ordering::SeqCst)
    }

    /// Stops serving, and waits until connections are refused.
    pub async fn stop(&self) {
        self.task.abort();
        let address = self.base.trim_start_matches("http://").to_owned();
        let refused = async || tokio::net::TcpStream::connect(&address).await.is_err();
        super::wait_until(refused, std::time::Duration::from_secs(10)).await;
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
