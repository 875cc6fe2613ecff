//! ES256 verification through ring. jsonwebtoken's RustCrypto backend re-parses the public key
//! and verifies in portable code, several times slower than ring's assembly; first-seen Backstage
//! tokens are ES256, so that path runs on ring. Everything else stays on RustCrypto.

use std::sync::OnceLock;

use jsonwebtoken::crypto::{CryptoProvider, JwtVerifier, rust_crypto};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{Error, Verifier};
use jsonwebtoken::{Algorithm, DecodingKey};
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

static PROVIDER: OnceLock<CryptoProvider> = OnceLock::new();

/// Makes this the process's JWT crypto provider. Call before the first token is signed or checked;
/// later calls do nothing.
pub fn install() {
    let provider = PROVIDER.get_or_init(|| CryptoProvider {
        verifier_factory: new_verifier,
        ..rust_crypto::DEFAULT_PROVIDER.clone()
    });
    let _ = provider.install_default();
}

fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    match algorithm {
        Algorithm::ES256 => {
            // An EC key's bytes are its uncompressed SEC1 point, which is what ring takes.
            let point = key
                .try_get_as_bytes()
                .map_err(|_| ErrorKind::InvalidEcdsaKey)?;
            Ok(Box::new(Es256 {
                point: point.to_vec(),
            }))
        }
        other => (rust_crypto::DEFAULT_PROVIDER.verifier_factory)(other, key),
    }
}

struct Es256 {
    point: Vec<u8>,
}

impl Verifier<Vec<u8>> for Es256 {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> std::result::Result<(), Error> {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.point)
            .verify(message, signature)
            .map_err(|_| Error::new())
    }
}

impl JwtVerifier for Es256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_what_rustcrypto_signs_and_refuses_tampering() {
        install();
        let secret = p256::SecretKey::random(&mut rand_core::OsRng);
        let pem = p256::pkcs8::EncodePrivateKey::to_pkcs8_pem(&secret, p256::pkcs8::LineEnding::LF)
            .unwrap();
        let jwk = serde_json::to_value(secret.public_key().to_jwk()).unwrap();
        let key =
            DecodingKey::from_ec_components(jwk["x"].as_str().unwrap(), jwk["y"].as_str().unwrap())
                .unwrap();
        let encoding = jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
        let signature =
            jsonwebtoken::crypto::sign(b"header.claims", &encoding, Algorithm::ES256).unwrap();
        assert!(
            jsonwebtoken::crypto::verify(&signature, b"header.claims", &key, Algorithm::ES256)
                .unwrap()
        );
        assert!(
            !jsonwebtoken::crypto::verify(&signature, b"header.claimz", &key, Algorithm::ES256)
                .unwrap()
        );
    }
}
