//! Reading a JWT's header and claims before its signature is checked, to decide which issuer
//! verifies it. Nothing read here is trusted until `jsonwebtoken::decode` has checked the signature.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::AuthError;

pub const USER_TYP: &str = "vnd.backstage.user";
pub const LIMITED_USER_TYP: &str = "vnd.backstage.limited-user";
/// `typ` of the service tokens the built-in issuer signs.
pub const SERVICE_TYP: &str = "vnd.fawkes-portal.service";
/// `aud` of Backstage user tokens.
pub const BACKSTAGE_AUDIENCE: &str = "backstage";

/// Header and claims of a token whose signature has not been checked yet.
#[derive(Debug)]
pub struct Unverified {
    pub alg: String,
    pub typ: Option<String>,
    pub kid: Option<String>,
    pub iss: Option<String>,
}

#[derive(Deserialize)]
struct RawHeader {
    alg: Option<String>,
    typ: Option<String>,
    kid: Option<String>,
}

#[derive(Deserialize)]
struct RawClaims {
    iss: Option<serde_json::Value>,
}

impl Unverified {
    pub fn parse(token: &str) -> Result<Unverified, AuthError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(_signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::Malformed(
                "not a JWT (expected three dot-separated parts)".into(),
            ));
        };
        let header: RawHeader = decode_part(header, "header")?;
        let claims: RawClaims = decode_part(payload, "claims")?;
        let alg = header
            .alg
            .ok_or_else(|| AuthError::Malformed("the header has no 'alg'".into()))?;
        if alg.eq_ignore_ascii_case("none") {
            return Err(AuthError::UnsupportedAlgorithm(printable(&alg)));
        }
        let iss = match claims.iss {
            None => None,
            Some(serde_json::Value::String(iss)) => Some(iss),
            Some(_) => {
                return Err(AuthError::Invalid(
                    "the 'iss' claim must be a string".into(),
                ));
            }
        };
        Ok(Unverified {
            alg,
            typ: header.typ,
            kid: header.kid,
            iss,
        })
    }
}

fn decode_part<T: serde::de::DeserializeOwned>(part: &str, what: &str) -> Result<T, AuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| AuthError::Malformed(format!("the {what} is not base64url")))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| AuthError::Malformed(format!("the {what} is not a JSON object")))
}

/// A token-supplied value made safe to put in a message: short and printable.
pub fn printable(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect()
}
