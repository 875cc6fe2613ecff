//! The guard in front of every route: authenticate, then spend the caller's rate-limit budget.
//! Every response, errors, 429 and a closed-mode 503 included, carries `X-RateLimit-Limit`,
//! `X-RateLimit-Remaining` and `X-RateLimit-Reset`. Requests with missing or invalid credentials
//! spend their client address's (smaller) budget, so tokens cannot be guessed at full speed;
//! public routes and unknown paths need no token and spend the address's public budget.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Auth;
use crate::error::AppError;
use crate::rate_limit::{Bucket, Decision, Unavailable};

/// `X-RateLimit-Limit`: the caller's requests per minute.
pub static LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
/// `X-RateLimit-Remaining`: requests left in this minute.
pub static REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
/// `X-RateLimit-Reset`: epoch seconds at which the budget refills.
pub static RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// The middleware: authenticates a guarded route's caller (putting the [`Principal`](crate::principal::Principal) on the request) and spends its rate-limit budget.
pub async fn guard(State(auth): State<Auth>, mut req: Request, next: Next) -> Response {
    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    // Public routes need no token, and unmatched paths fall through to the 404: both spend the
    // client address's public budget, counted in this process.
    let public = req
        .extensions()
        .get::<MatchedPath>()
        .is_none_or(|route| super::is_public(route.as_str(), &auth.config));
    if public {
        let decision = auth.limiter.check_public(address).await;
        let mut response = if decision.allowed {
            next.run(req).await
        } else {
            too_many(&decision)
        };
        set_headers(
            &mut response,
            decision.limit,
            decision.remaining,
            decision.reset,
        );
        return response;
    }
    let verified = auth
        .authenticator
        .authenticate(req.headers().get(header::AUTHORIZATION))
        .await;
    let bucket = match &verified {
        Ok(principal) => Bucket::Principal(principal),
        Err(_) => Bucket::Anonymous(address),
    };
    let decision = match auth.limiter.check(bucket).await {
        Ok(decision) => decision,
        Err(unavailable) => {
            let mut response = AppError::Unavailable(unavailable.to_string()).into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, Unavailable::RETRY_AFTER.into());
            set_headers(&mut response, unavailable.limit, 0, unavailable.reset);
            return response;
        }
    };
    let mut response = match verified {
        _ if !decision.allowed => too_many(&decision),
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            next.run(req).await
        }
        Err(refused) => AppError::from(refused).into_response(),
    };
    set_headers(
        &mut response,
        decision.limit,
        decision.remaining,
        decision.reset,
    );
    response
}

fn set_headers(response: &mut Response, limit: u64, remaining: u64, reset: u64) {
    let headers = response.headers_mut();
    headers.insert(LIMIT.clone(), HeaderValue::from(limit));
    headers.insert(REMAINING.clone(), HeaderValue::from(remaining));
    headers.insert(RESET.clone(), HeaderValue::from(reset));
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
