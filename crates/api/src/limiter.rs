//! The in-flight limit: at most N calls on the wire at once per base URL. Every model built
//! for the same base URL in this process shares one limiter, so a judge and the model it
//! judges stay within the provider's limit together. Waiting out a backoff holds no slot.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, OnceLock};

pub struct InFlight {
    state: Mutex<State>,
    /// Signalled when a slot frees and a first-stage call is waiting.
    first_freed: Condvar,
    /// Signalled when a slot frees and only follow-up calls are waiting.
    follow_up_freed: Condvar,
}

struct State {
    on_the_wire: usize,
    limit: usize,
    first_waiting: usize,
}

/// Which calls get a freed slot first. A follow-up (a judge call made as its answer arrives)
/// waits while any first-stage call waits: the first stage's calls each have work queued
/// behind them, so finishing them first keeps the slots full until the very end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    First,
    FollowUp,
}

pub struct Slot<'a> {
    owner: &'a InFlight,
}

impl InFlight {
    pub fn new(limit: usize) -> InFlight {
        InFlight {
            state: Mutex::new(State {
                on_the_wire: 0,
                limit: limit.max(1),
                first_waiting: 0,
            }),
            first_freed: Condvar::new(),
            follow_up_freed: Condvar::new(),
        }
    }

    pub fn limit(&self) -> usize {
        self.state.lock().expect("limiter lock").limit
    }

    fn lower_to(&self, limit: usize) {
        let mut state = self.state.lock().expect("limiter lock");
        state.limit = state.limit.min(limit.max(1));
    }

    /// Blocks until a slot is free for a call in `lane`.
    pub fn acquire(&self, lane: Lane) -> Slot<'_> {
        let mut state = self.state.lock().expect("limiter lock");
        match lane {
            Lane::First => {
                state.first_waiting += 1;
                while state.on_the_wire >= state.limit {
                    state = self.first_freed.wait(state).expect("limiter lock");
                }
                state.first_waiting -= 1;
            }
            Lane::FollowUp => {
                while state.on_the_wire >= state.limit || state.first_waiting > 0 {
                    state = self.follow_up_freed.wait(state).expect("limiter lock");
                }
            }
        }
        state.on_the_wire += 1;
        Slot { owner: self }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut state = self.owner.state.lock().expect("limiter lock");
        state.on_the_wire -= 1;
        if state.first_waiting > 0 {
            self.owner.first_freed.notify_one();
        } else {
            self.owner.follow_up_freed.notify_one();
        }
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
                    let _slot = limiter.acquire(Lane::First);
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    now.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn first_stage_calls_get_freed_slots_before_follow_ups() {
        let limiter = InFlight::new(1);
        let order = Mutex::new(Vec::new());
        let held = limiter.acquire(Lane::First);
        std::thread::scope(|s| {
            s.spawn(|| {
                let _slot = limiter.acquire(Lane::FollowUp);
                order.lock().unwrap().push("follow-up");
            });
            std::thread::sleep(std::time::Duration::from_millis(30));
            for _ in 0..2 {
                s.spawn(|| {
                    let _slot = limiter.acquire(Lane::First);
                    order.lock().unwrap().push("first");
                    std::thread::sleep(std::time::Duration::from_millis(5));
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(30));
            drop(held);
        });
        assert_eq!(*order.lock().unwrap(), ["first", "first", "follow-up"]);
    }
}
