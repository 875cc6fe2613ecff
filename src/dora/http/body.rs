//! A webhook's body, read as DevLake reads it, so pipelines that post to DevLake can post here
//! unchanged: JSON whatever the content type says when it says JSON, a form (`curl -d '{...}'`)
//! or nothing; only the first JSON value (bytes after it are ignored, an empty body is `{}`); then
//! DevLake's lenient field decoding ([`loose`]). Only the webhook routes take bodies this way.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::dora::model::loose;
use crate::error::AppError;

/// The decoded body of a webhook.
pub struct WebhookBody<T>(pub T);

/// Whether a webhook takes a body sent with this content type: JSON (`application/json`,
/// `...+json`), a form, or none at all.
fn accepted(content_type: Option<&str>) -> bool {
    let Some(value) = content_type else {
        return true;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence.ends_with("+json")
        || essence == "application/x-www-form-urlencoded"
}

impl<S, T> FromRequest<S> for WebhookBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("?"));
        if !accepted(content_type) {
            return Err(AppError::UnsupportedMediaType(
                "Unsupported content type: send the body as JSON (Content-Type: \
                 application/json; like DevLake, a form content type or none is read as JSON too)"
                    .into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge(
                    "Request body too large: it exceeds the server's limit (server.max_body_bytes)"
                        .into(),
                ),
                _ => AppError::BadRequest(format!(
                    "Cannot read the request body: {}",
                    rejection.body_text()
                )),
            }
        })?;
        let value = serde_json::Deserializer::from_slice(&bytes)
            .into_iter::<Value>()
            .next()
            .transpose()
            .map_err(|e| AppError::BadRequest(format!("Malformed JSON: {e}")))?
            .unwrap_or_else(|| Value::Object(serde_json::Map::new()));
        if !value.is_object() {
            return Err(AppError::BadRequest(
                "Invalid request body: expected a JSON object".into(),
            ));
        }
        loose::decode(value)
            .map(WebhookBody)
            .map_err(|e| AppError::BadRequest(format!("Invalid request body: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_forms_and_no_content_type_are_taken() {
        for content_type in [
            None,
            Some("application/json"),
            Some("application/json; charset=utf-8"),
            Some("Application/JSON"),
            Some("application/vnd.devlake+json"),
            Some("application/x-www-form-urlencoded"),
        ] {
            assert!(accepted(content_type), "{content_type:?}");
        }
        for content_type in [
            "text/plain",
            "multipart/form-data; boundary=x",
            "application/xml",
        ] {
            assert!(!accepted(Some(content_type)), "{content_type}");
        }
    }
}
