//! Whole answers of entity reads (a streamed list's JSON array, a by-query page), kept until the
//! catalog's version changes. The catalog changes rarely and is read often: a repeated read is
//! then the bytes already made, shared by every request, instead of thousands of rows read,
//! projected and joined again. Bounded: at most `[catalog] kept_answers_bytes` in all, an
//! answer over [`MAX_ANSWER`] is never kept, and one request builds a missing answer while the
//! others asking for it wait for it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;

/// The largest answer kept; larger ones are streamed from the database each time.
pub const MAX_ANSWER: usize = 40 << 20;

/// One answer: its JSON text in chunks (a streamed list's pages), shared by every request, and
/// its gzip form once a client that accepts it has asked (Backstage's clients do).
pub struct Answer {
    chunks: Vec<Bytes>,
    gzip: tokio::sync::OnceCell<Bytes>,
}

impl Answer {
    /// An answer of these chunks.
    pub fn new(chunks: Vec<Bytes>) -> Arc<Answer> {
        Arc::new(Answer {
            chunks,
            gzip: tokio::sync::OnceCell::new(),
        })
    }

    /// The JSON text, in chunks.
    pub fn chunks(&self) -> &[Bytes] {
        &self.chunks
    }

    /// Its size in bytes.
    pub fn len(&self) -> usize {
        self.chunks.iter().map(Bytes::len).sum()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The answer gzip-compressed, made once (on a blocking thread) and then shared. `None` if
    /// compressing failed (the caller sends it as it is).
    pub async fn gzip(self: &Arc<Self>) -> Option<Bytes> {
        let this = self.clone();
        self.gzip
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || this.compress())
                    .await
                    .map_err(|_| ())?
            })
            .await
            .ok()
            .cloned()
    }

    fn compress(&self) -> Result<Bytes, ()> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(
            Vec::with_capacity(self.len() / 6),
            flate2::Compression::fast(),
        );
        for chunk in &self.chunks {
            encoder.write_all(chunk).map_err(|_| ())?;
        }
        encoder.finish().map(Bytes::from).map_err(|_| ())
    }
}

/// What building an answer gave.
pub enum Built {
    /// The answer, complete (kept only if at most [`MAX_ANSWER`] bytes).
    Answer(Vec<Bytes>),
    /// It is more than [`MAX_ANSWER`] bytes; the caller streams it instead.
    TooLarge,
}

/// Answers by key (the request, normalised), all of one catalog version.
pub struct Answers {
    /// Bytes of answers kept at most, all answers together.
    budget: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    version: u64,
    used: usize,
    kept: HashMap<String, Kept>,
    /// One lock per answer being built, so concurrent requests for it build it once.
    building: HashMap<String, Arc<tokio::sync::Mutex<()>>>,
}

enum Kept {
    Answer(Arc<Answer>),
    TooLarge,
}

impl Answers {
    /// Keeps at most `budget` bytes of answers; 0 keeps none.
    pub fn new(budget: usize) -> Answers {
        Answers {
            budget,
            state: Mutex::default(),
        }
    }

    /// Whether any answer may be kept.
    pub fn enabled(&self) -> bool {
        self.budget > 0
    }

    /// The answer `key` at catalog `version`: kept, or made by `build` (once, while others asking
    /// for it wait). `None` when it is too large to keep. `current` is the catalog's version after
    /// the build: the answer is kept only if no change was committed while it was built.
    pub async fn get_or_build<E, F, Fut>(
        &self,
        key: &str,
        version: u64,
        current: impl Fn() -> Option<u64>,
        build: F,
    ) -> Result<Option<Arc<Answer>>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Built, E>>,
    {
        let lock = match self.lookup(key, version) {
            Some(found) => return Ok(found),
            None => self.building_lock(key),
        };
        // Forgets the lock however this ends, a request dropped while it waits or builds
        // included, so locks of keys asked for once do not pile up.
        let _forget = ForgetLock { answers: self, key };
        let _building = lock.lock().await;
        if let Some(found) = self.lookup(key, version) {
            return Ok(found);
        }
        let built = build().await?;
        let mut state = self.lock();
        let keep = current() == Some(version);
        Ok(match built {
            Built::Answer(chunks) => {
                let answer = Answer::new(chunks);
                if keep {
                    state.insert(key, version, Kept::Answer(answer.clone()), self.budget);
                }
                Some(answer)
            }
            Built::TooLarge => {
                if keep {
                    state.insert(key, version, Kept::TooLarge, self.budget);
                }
                None
            }
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Some(Some(answer))` kept, `Some(None)` known too large, `None` not known at `version`.
    fn lookup(&self, key: &str, version: u64) -> Option<Option<Arc<Answer>>> {
        let state = self.lock();
        if state.version != version {
            return None;
        }
        state.kept.get(key).map(|kept| match kept {
            Kept::Answer(answer) => Some(answer.clone()),
            Kept::TooLarge => None,
        })
    }

    fn building_lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.lock()
            .building
            .entry(key.to_owned())
            .or_default()
            .clone()
    }
}

/// Removes an answer's build lock when dropped.
struct ForgetLock<'a> {
    answers: &'a Answers,
    key: &'a str,
}

impl Drop for ForgetLock<'_> {
    fn drop(&mut self) {
        self.answers.lock().building.remove(self.key);
    }
}

impl State {
    fn insert(&mut self, key: &str, version: u64, kept: Kept, budget: usize) {
        if version < self.version {
            return;
        }
        if version > self.version {
            self.kept.clear();
            self.used = 0;
            self.version = version;
        }
        let size = size_of(key, &kept);
        // An answer that can never fit is not kept, and drops nothing to make room for it.
        if size > MAX_ANSWER || size > budget {
            return;
        }
        // Room is made by dropping other answers, whichever come first (no order is kept: the
        // answers of one version are few).
        while self.used + size > budget {
            let Some(other) = self.kept.keys().next().cloned() else {
                break;
            };
            if let Some(dropped) = self.kept.remove(&other) {
                self.used -= size_of(&other, &dropped);
            }
        }
        self.used += size;
        if let Some(old) = self.kept.insert(key.to_owned(), kept) {
            self.used -= size_of(key, &old);
        }
    }
}

fn size_of(key: &str, kept: &Kept) -> usize {
    key.len()
        + match kept {
            Kept::Answer(answer) => answer.len(),
            Kept::TooLarge => 0,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(answers: &Answers, key: &str, bytes: usize) -> (Option<Arc<Answer>>, bool) {
        let mut built = false;
        let answer = answers
            .get_or_build::<(), _, _>(
                key,
                1,
                || Some(1),
                || {
                    built = true;
                    async move { Ok(Built::Answer(vec![Bytes::from(vec![b'x'; bytes])])) }
                },
            )
            .await
            .unwrap();
        (answer, built)
    }

    /// An answer larger than the whole budget is served but not kept, and the answers already
    /// kept stay.
    #[tokio::test]
    async fn an_answer_over_the_budget_drops_nothing() {
        let answers = Answers::new(100);
        assert!(get(&answers, "small", 40).await.1, "built the first time");
        assert!(!get(&answers, "small", 40).await.1, "kept");
        let (large, built) = get(&answers, "large", 200).await;
        assert!(built);
        assert_eq!(large.unwrap().len(), 200, "served whole");
        assert!(get(&answers, "large", 200).await.1, "not kept");
        assert!(!get(&answers, "small", 40).await.1, "still kept");
        // Room is made by dropping another answer when the new one fits the budget.
        assert!(get(&answers, "other", 80).await.1);
        assert!(!get(&answers, "other", 80).await.1, "kept");
        assert!(get(&answers, "small", 40).await.1, "dropped for it");
    }
}
