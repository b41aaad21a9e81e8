//! The in-flight limit: at most N calls on the wire at once per base URL. Every model built
//! for the same base URL in this process shares one limiter, so a judge and the model it
//! judges stay within the provider's limit together. Waiting out a backoff holds no slot.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, OnceLock};

pub struct InFlight {
    /// (calls on the wire, the limit)
    state: Mutex<(usize, usize)>,
    freed: Condvar,
}

pub struct Slot<'a> {
    owner: &'a InFlight,
}

impl InFlight {
    pub fn new(limit: usize) -> InFlight {
        InFlight {
            state: Mutex::new((0, limit.max(1))),
            freed: Condvar::new(),
        }
    }

    pub fn limit(&self) -> usize {
        self.state.lock().expect("limiter lock").1
    }

    fn lower_to(&self, limit: usize) {
        let mut state = self.state.lock().expect("limiter lock");
        state.1 = state.1.min(limit.max(1));
    }

    /// Blocks until a slot is free.
    pub fn acquire(&self) -> Slot<'_> {
        let mut state = self.state.lock().expect("limiter lock");
        while state.0 >= state.1 {
            state = self.freed.wait(state).expect("limiter lock");
        }
        state.0 += 1;
        Slot { owner: self }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut state = self.owner.state.lock().expect("limiter lock");
        state.0 -= 1;
        self.owner.freed.notify_one();
    }
}

/// The limiter of `base_url`. When models ask for different limits, the smallest applies.
pub fn for_base_url(base_url: &str, limit: usize) -> Arc<InFlight> {
    static LIMITERS: OnceLock<Mutex<HashMap<String, Arc<InFlight>>>> = OnceLock::new();
    let mut map = LIMITERS
        .get_or_init(Default::default)
        .lock()
        .expect("limiters lock");
    let entry = map
        .entry(base_url.to_owned())
        .or_insert_with(|| Arc::new(InFlight::new(limit)));
    entry.lower_to(limit);
    entry.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn never_more_than_the_limit() {
        let limiter = InFlight::new(3);
        let now = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..12 {
                s.spawn(|| {
                    let _slot = limiter.acquire();
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    now.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    }
}
