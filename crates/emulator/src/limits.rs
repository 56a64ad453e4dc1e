//! Outlook's per-mailbox service limits: concurrent requests, a rate window, and the Retry-After detector.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::server::Emulator;
use crate::store::Config;

/// Limiter state of one mailbox.
#[derive(Debug, Default)]
struct MailboxLimits {
    running: usize,
    admitted: VecDeque<Instant>,
    /// When the last throttling answer went out, and until when its Retry-After holds.
    throttle: Option<(Instant, Instant)>,
}

/// Limiter state of all mailboxes.
#[derive(Debug, Default)]
pub struct LimiterState {
    mailboxes: HashMap<String, MailboxLimits>,
}

/// How long after a 429 was sent a request of the same mailbox may still arrive without counting as a
/// Retry-After violation: it may have been sent before the client could see the 429 (loopback latency plus
/// scheduling, generously).
pub const VIOLATION_GRACE: Duration = Duration::from_millis(50);

impl LimiterState {
    /// True if a request of `mailbox` that reached the server at `arrived` (for a batch item: when its batch
    /// did) came after a throttling answer could have reached the client and before its Retry-After elapsed.
    /// Requests already on the wire when the 429 left are not the client's fault: they get
    /// [`VIOLATION_GRACE`] to arrive.
    pub fn arrived_too_early(&self, mailbox: &str, arrived: Instant) -> bool {
        self.mailboxes
            .get(mailbox)
            .and_then(|l| l.throttle)
            .is_some_and(|(sent, until)| sent + VIOLATION_GRACE < arrived && arrived < until)
    }

    /// Records that a throttling answer with `retry_after` seconds went to `mailbox`.
    pub fn throttled(&mut self, mailbox: &str, retry_after: f64) {
        let limits = self.mailboxes.entry(mailbox.to_owned()).or_default();
        let wait = Duration::try_from_secs_f64(retry_after.max(0.0)).unwrap_or(Duration::ZERO);
        let now = Instant::now();
        let until = now + wait;
        let until = limits
            .throttle
            .map_or(until, |(_, previous)| previous.max(until));
        limits.throttle = Some((now, until));
    }

    /// Admits a request under the limits or says how long to wait (seconds, for `Retry-After`).
    fn admit(&mut self, mailbox: &str, config: &Config) -> Result<(), u64> {
        let limits = self.mailboxes.entry(mailbox.to_owned()).or_default();
        let now = Instant::now();
        let window = Duration::from_secs(config.rate_window_s.max(1));
        while limits
            .admitted
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            limits.admitted.pop_front();
        }
        if limits.admitted.len() >= config.rate_limit {
            let oldest = limits.admitted.front().copied().unwrap_or(now);
            let wait = window.saturating_sub(now.duration_since(oldest));
            return Err(wait.as_secs().max(1));
        }
        if limits.running >= config.max_concurrent {
            return Err(1);
        }
        limits.running += 1;
        limits.admitted.push_back(now);
        Ok(())
    }

    fn release(&mut self, mailbox: &str) {
        if let Some(limits) = self.mailboxes.get_mut(mailbox) {
            limits.running = limits.running.saturating_sub(1);
        }
    }
}

/// An execution slot; released on drop.
pub struct Slot {
    emulator: Arc<Emulator>,
    mailbox: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.emulator
            .with_world(|w| w.limiter.release(&self.mailbox));
    }
}

/// Takes an execution slot of `mailbox` when limits are on (`Ok(None)` when off); `Err` carries Retry-After.
pub fn acquire(emulator: &Arc<Emulator>, mailbox: &str) -> Result<Option<Slot>, u64> {
    emulator.with_world(|w| {
        if !w.config.limits {
            return Ok(None);
        }
        let config = w.config.clone();
        w.limiter.admit(mailbox, &config)?;
        Ok(Some(Slot {
            emulator: Arc::clone(emulator),
            mailbox: mailbox.to_owned(),
        }))
    })
}
