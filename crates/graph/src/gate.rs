//! Per-mailbox admission: at most `max_in_flight` requests executing, and a mailbox-wide pause after
//! a 429 so that no request is sent before its `Retry-After` has passed (Graph keeps counting usage
//! while it throttles, so sending early only makes it worse).

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// Outlook runs at most this many items of one `$batch` at a time.
pub(crate) const BATCH_PARALLELISM: u32 = 4;

#[derive(Debug)]
pub(crate) struct Gate {
    slots: Semaphore,
    capacity: u32,
    paused_until: Mutex<Option<Instant>>,
}

impl Gate {
    pub(crate) fn new(max_in_flight: usize) -> Self {
        let capacity = u32::try_from(max_in_flight.clamp(1, 1024)).unwrap_or(1);
        Self {
            slots: Semaphore::new(capacity as usize),
            capacity,
            paused_until: Mutex::new(None),
        }
    }

    /// Waits for `weight` execution slots (clamped to the capacity, so a wide batch cannot wait
    /// forever) and for any pause to end. Hold the permit while the request executes.
    pub(crate) async fn enter(&self, weight: u32) -> SemaphorePermit<'_> {
        let weight = weight.clamp(1, self.capacity);
        loop {
            self.wait_out_pause().await;
            // The semaphore is never closed, so acquiring cannot fail; the fallback only keeps the
            // code panic-free.
            let Ok(permit) = self.slots.acquire_many(weight).await else {
                continue;
            };
            // A 429 may have arrived while we queued for the slot.
            if self
                .pause_deadline()
                .is_none_or(|until| until <= Instant::now())
            {
                return permit;
            }
            drop(permit);
        }
    }

    /// Pauses the whole mailbox for `wait` from now (never shortens an existing pause).
    pub(crate) fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut guard = self
            .paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.is_none_or(|current| current < until) {
            *guard = Some(until);
        }
    }

    fn pause_deadline(&self) -> Option<Instant> {
        *self
            .paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn wait_out_pause(&self) {
        while let Some(until) = self.pause_deadline() {
            if until <= Instant::now() {
                break;
            }
            tokio::time::sleep_until(until).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn pause_blocks_entry_until_it_ends() {
        let gate = Gate::new(4);
        let start = Instant::now();
        gate.pause_for(Duration::from_secs(3));
        gate.pause_for(Duration::from_secs(1)); // must not shorten the pause
        let _permit = gate.enter(1).await;
        assert!(start.elapsed() >= Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn weights_are_clamped_and_limit_concurrency() {
        let gate = Gate::new(4);
        let wide = gate.enter(20).await; // clamped to 4: takes the whole mailbox
        assert_eq!(gate.slots.available_permits(), 0);
        drop(wide);
        let a = gate.enter(3).await;
        let second = tokio::time::timeout(Duration::from_secs(1), gate.enter(2)).await;
        assert!(second.is_err(), "only one slot left");
        drop(a);
        assert_eq!(gate.slots.available_permits(), 4);
    }
}
