//! One principal's requests may hold at most `database.max_principal_share` of the connection
//! pool at once: a principal's requests beyond that wait (within `server.request_timeout`) for
//! one of its own to finish, so twelve slow queries from one user leave the rest of the pool to
//! everyone else. A streamed answer keeps its place until its last byte is sent.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Principal;

/// Past this many principals, the places of those with nothing running are forgotten.
const PRUNE_AT: usize = 1024;

/// The places each principal may hold.
pub struct PrincipalShare {
    per_principal: usize,
    held: Mutex<Held>,
}

struct Held {
    by_principal: HashMap<String, Arc<Semaphore>>,
    prune_at: usize,
}

impl PrincipalShare {
    /// Places for `per_principal` requests of each principal at once (at least one).
    pub fn new(per_principal: usize) -> PrincipalShare {
        PrincipalShare {
            per_principal: per_principal.max(1),
            held: Mutex::new(Held {
                by_principal: HashMap::new(),
                prune_at: PRUNE_AT,
            }),
        }
    }

    /// Waits for one of `key`'s places.
    pub async fn enter(&self, key: &str) -> OwnedSemaphorePermit {
        let places = {
            let mut held = self
                .held
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if held.by_principal.len() >= held.prune_at {
                let all = self.per_principal;
                held.by_principal
                    .retain(|_, places| places.available_permits() < all);
                held.prune_at = (held.by_principal.len() * 2).max(PRUNE_AT);
            }
            held.by_principal
                .entry(key.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_principal)))
                .clone()
        };
        if places.available_permits() == 0 {
            metrics::counter!("principal_share_waits_total").increment(1);
        }
        places
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }
}

/// The middleware (after the guard, which puts the principal in the request).
pub async fn limit(State(share): State<Arc<PrincipalShare>>, req: Request, next: Next) -> Response {
    let Some(principal) = req.extensions().get::<Principal>() else {
        return next.run(req).await;
    };
    let key = format!("{:?}:{}", principal.kind, principal.subject);
    let place = share.enter(&key).await;
    next.run(req).await.map(|body| {
        Body::new(Holding {
            body,
            _place: place,
        })
    })
}

/// A response body that keeps its principal's place until it is dropped.
struct Holding {
    body: Body,
    _place: OwnedSemaphorePermit,
}

impl HttpBody for Holding {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_principal_waits_for_its_own_places_only() {
        let share = PrincipalShare::new(2);
        let a1 = share.enter("a").await;
        let _a2 = share.enter("a").await;
        // A third of a's waits; b is not held up by a.
        use futures_util::FutureExt;
        assert!(share.enter("a").now_or_never().is_none());
        assert!(share.enter("b").now_or_never().is_some());
        drop(a1);
        let _a3 = share.enter("a").await;
    }
}
