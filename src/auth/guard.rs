//! The guard in front of every non-public route: authenticate, then spend the caller's rate-limit
//! budget. Every guarded response, errors and 429 included, carries `X-RateLimit-Limit`,
//! `X-RateLimit-Remaining` and `X-RateLimit-Reset`. Requests with missing or invalid credentials
//! spend their client address's (smaller) budget, so tokens cannot be guessed at full speed.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Auth;
use crate::error::AppError;
use crate::rate_limit::{Bucket, Decision};

/// `X-RateLimit-Limit`: the caller's requests per minute.
pub static LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
/// `X-RateLimit-Remaining`: requests left in this minute.
pub static REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
/// `X-RateLimit-Reset`: epoch seconds at which the budget refills.
pub static RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// The middleware: authenticates a guarded route's caller (putting the [`Principal`](crate::principal::Principal) on the request) and spends its rate-limit budget.
pub async fn guard(State(auth): State<Auth>, mut req: Request, next: Next) -> Response {
    // Unmatched paths fall through to the 404; public routes need no token.
    let Some(route) = req.extensions().get::<MatchedPath>() else {
        return next.run(req).await;
    };
    if super::is_public(route.as_str(), &auth.config) {
        return next.run(req).await;
    }
    let verified = auth
        .authenticator
        .authenticate(req.headers().get(header::AUTHORIZATION))
        .await;
    let bucket = match &verified {
        Ok(principal) => Bucket::Principal(principal),
        Err(_) => Bucket::Anonymous(
            req.extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ),
    };
    let decision = match auth.limiter.check(bucket).await {
        Ok(decision) => decision,
        Err(unavailable) => return AppError::Unavailable(unavailable.to_string()).into_response(),
    };
    let mut response = match verified {
        _ if !decision.allowed => too_many(&decision),
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            next.run(req).await
        }
        Err(refused) => AppError::from(refused).into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(LIMIT.clone(), HeaderValue::from(decision.limit));
    headers.insert(REMAINING.clone(), HeaderValue::from(decision.remaining));
    headers.insert(RESET.clone(), HeaderValue::from(decision.reset));
    response
}

fn too_many(decision: &Decision) -> Response {
    AppError::TooManyRequests {
        message: format!(
            "Rate limit exceeded: {} requests per minute; retry in {} seconds",
            decision.limit, decision.retry_after
        ),
        retry_after_secs: decision.retry_after,
    }
    .into_response()
}
