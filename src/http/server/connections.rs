//! Every open connection, what it is doing, and the limits on it: a request head must arrive
//! within `server.header_read_timeout` (counted from accepting the connection, or from the first
//! byte of the next request on a kept-alive one), an idle connection closes after
//! `server.keep_alive_timeout`, and at most `server.max_connections` are open. At the cap, the
//! oldest connection with no request in progress is closed to admit a new one, so a flood of
//! half-sent heads (slowloris) cannot lock out clients that send theirs at once.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How often expired connections are looked for.
const SWEEP_EVERY: Duration = Duration::from_millis(250);
/// Least time between two "connection limit reached" warnings.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// `[server]`'s connection limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `server.header_read_timeout`.
    pub header_read_timeout: Duration,
    /// `server.keep_alive_timeout`.
    pub keep_alive_timeout: Duration,
    /// `server.max_connections` (lowered to the open-file limit).
    pub max_connections: usize,
}

/// What a connection is doing.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for (the rest of) a request head since then.
    Head(Instant),
    /// At least one request in progress.
    Busy,
    /// Between requests since then, with nothing of the next one received.
    Idle(Instant),
}

#[derive(Debug)]
struct State {
    phase: Phase,
    in_flight: usize,
}

/// One open connection.
#[derive(Debug)]
pub struct Conn {
    id: u64,
    state: Mutex<State>,
    /// Cancelled to close the connection at once (timed out, or evicted at the cap).
    pub close: CancellationToken,
}

impl Conn {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Bytes arrived: an idle connection starts receiving its next request head.
    pub fn on_read(&self) {
        let mut state = self.state();
        if let Phase::Idle(_) = state.phase {
            state.phase = Phase::Head(Instant::now());
        }
    }

    /// A request head was read; the guard marks the request finished when dropped (with the
    /// response body, once it is sent).
    pub fn request_started(self: &Arc<Conn>) -> InFlight {
        let mut state = self.state();
        state.in_flight += 1;
        state.phase = Phase::Busy;
        InFlight(self.clone())
    }

    fn expired(&self, now: Instant, limits: &Limits) -> Option<&'static str> {
        match self.state().phase {
            Phase::Head(since) if now - since > limits.header_read_timeout => {
                Some("request head not received within server.header_read_timeout")
            }
            Phase::Idle(since) if now - since > limits.keep_alive_timeout => Some("idle"),
            _ => None,
        }
    }

    fn busy(&self) -> bool {
        matches!(self.state().phase, Phase::Busy)
    }
}

/// A request in progress on a connection.
pub struct InFlight(Arc<Conn>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.0.state();
        state.in_flight = state.in_flight.saturating_sub(1);
        if state.in_flight == 0 {
            state.phase = Phase::Idle(Instant::now());
        }
    }
}

/// The open connections.
pub struct Registry {
    limits: Limits,
    open: Mutex<BTreeMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
    room: Notify,
    warned_at: Mutex<Option<Instant>>,
    evicted: AtomicU64,
}

/// A connection's place in the registry, given back when dropped.
pub struct Slot {
    registry: Arc<Registry>,
    /// The connection's state, shared with its socket and its requests.
    pub conn: Arc<Conn>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let removed = self.registry.lock().remove(&self.conn.id).is_some();
        if removed {
            self.registry.room.notify_one();
        }
        metrics::gauge!("http_connections_open").decrement(1.0);
    }
}

impl Registry {
    /// No connections yet, under `limits`.
    pub fn new(limits: Limits) -> Arc<Registry> {
        Arc::new(Registry {
            limits,
            open: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(0),
            room: Notify::new(),
            warned_at: Mutex::new(None),
            evicted: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Conn>>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Connections open now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no connection is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A place for a newly accepted connection: at the cap, the oldest connection with no
    /// request in progress is closed to make room; when every one is busy, waits for one to end.
    pub async fn admit(self: &Arc<Self>) -> Slot {
        loop {
            let room = self.room.notified();
            match self.try_admit() {
                Some(slot) => return slot,
                None => {
                    self.warn("every connection has a request in progress; new connections wait");
                    room.await;
                }
            }
        }
    }

    fn try_admit(self: &Arc<Self>) -> Option<Slot> {
        let mut open = self.lock();
        if open.len() >= self.limits.max_connections {
            let oldest_idle = open.values().find(|c| !c.busy())?.id;
            if let Some(evicted) = open.remove(&oldest_idle) {
                evicted.close.cancel();
                self.evicted.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("http_connections_evicted_total").increment(1);
            }
            drop(open);
            self.warn(
                "closing the oldest connections with no request in progress to admit new ones",
            );
            open = self.lock();
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            id,
            state: Mutex::new(State {
                phase: Phase::Head(Instant::now()),
                in_flight: 0,
            }),
            close: CancellationToken::new(),
        });
        open.insert(id, conn.clone());
        metrics::gauge!("http_connections_open").increment(1.0);
        Some(Slot {
            registry: self.clone(),
            conn,
        })
    }

    /// At most every [`WARN_EVERY`]: the cap was reached, and what was done about it.
    fn warn(&self, action: &str) {
        let now = Instant::now();
        let mut warned_at = self
            .warned_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if warned_at.is_some_and(|at| now - at < WARN_EVERY) {
            return;
        }
        *warned_at = Some(now);
        tracing::warn!(
            max_connections = self.limits.max_connections,
            evicted = self.evicted.swap(0, Ordering::Relaxed),
            "connection limit reached: {} connections are open (server.max_connections); {action}",
            self.limits.max_connections,
        );
    }

    /// Closes the connections past their header-read or keep-alive timeout, until `stop`.
    pub async fn sweep_until(&self, stop: CancellationToken) {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let now = Instant::now();
            let mut open = self.lock();
            let expired: Vec<(u64, &'static str)> = open
                .values()
                .filter_map(|c| c.expired(now, &self.limits).map(|why| (c.id, why)))
                .collect();
            for (id, why) in expired {
                if let Some(conn) = open.remove(&id) {
                    tracing::debug!(connection = id, why, "closing a connection");
                    conn.close.cancel();
                    self.room.notify_one();
                }
            }
        }
    }
}
