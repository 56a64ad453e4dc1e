//! When and how long to wait before trying a request again.

use std::time::Duration;

use rand::Rng;

/// First backoff ceiling; doubles per attempt.
pub(crate) const BACKOFF_BASE: Duration = Duration::from_millis(500);
/// Largest backoff ceiling.
pub(crate) const BACKOFF_CAP: Duration = Duration::from_secs(30);
/// A `Retry-After` longer than this is treated as this: Graph never asks for hours, and a garbage
/// header must not park a mailbox forever (the retry budget still applies on top).
const RETRY_AFTER_MAX: Duration = Duration::from_secs(3600);

/// What repeating a request could do if the first attempt reached the server after all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// GET, PUT, DELETE: repeating is harmless.
    Idempotent,
    /// An event create carrying a `transactionId`: Graph refuses the duplicate.
    Create,
    /// PATCH and actions (cancel, accept, ...): a repeat could mail attendees twice.
    Unsafe,
}

impl Replay {
    /// Whether a connection error, a timeout, 500, 502 or 504 may be retried: in those cases the
    /// server may have executed the request.
    pub(crate) fn may_repeat_after_ambiguous_failure(self) -> bool {
        matches!(self, Self::Idempotent | Self::Create)
    }
}

/// Parses `Retry-After`: integer or fractional seconds (`"2.128"`, seen on Graph) or an HTTP date.
/// `now` is the current time, for the date form. Dates in the past mean "now" (zero).
pub(crate) fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let seconds: f64 = value.parse().ok()?;
        if !seconds.is_finite() || seconds < 0.0 {
            return None;
        }
        return Some(Duration::from_secs_f64(
            seconds.min(RETRY_AFTER_MAX.as_secs_f64()),
        ));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = at.duration_since(now);
    if wait.is_negative() {
        return Some(Duration::ZERO);
    }
    Some(Duration::try_from(wait).ok()?.min(RETRY_AFTER_MAX))
}

/// The backoff ceiling for retry number `attempt` (1 = first retry): `base * 2^(attempt-1)`,
/// capped.
pub(crate) fn backoff_ceiling(attempt: u32) -> Duration {
    let exponent = attempt.saturating_sub(1).min(16);
    BACKOFF_BASE.saturating_mul(1 << exponent).min(BACKOFF_CAP)
}

/// "Full jitter" backoff: uniformly random in `[0, ceiling]`, which spreads retries of many
/// clients best (AWS architecture blog, "Exponential Backoff And Jitter").
pub(crate) fn backoff(attempt: u32, rng: &mut impl Rng) -> Duration {
    let ceiling = backoff_ceiling(attempt);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rng.random_range(0..=millis))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn now() -> jiff::Timestamp {
        "2015-10-21T07:28:00Z".parse().unwrap()
    }

    #[test]
    fn retry_after_seconds_integer_and_fractional() {
        assert_eq!(parse_retry_after("7", now()), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after(" 2.128 ", now()),
            Some(Duration::from_millis(2128))
        );
        assert_eq!(parse_retry_after("0", now()), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("999999", now()), Some(RETRY_AFTER_MAX));
    }

    #[test]
    fn retry_after_http_date() {
        let later = parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now());
        assert_eq!(later, Some(Duration::from_secs(30)));
        let past = parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now());
        assert_eq!(past, Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_garbage_is_none() {
        for bad in ["", "soon", "-1", "1.2.3", ".", "Thu, 99 Foo 2015"] {
            assert_eq!(parse_retry_after(bad, now()), None, "{bad:?}");
        }
    }

    #[test]
    fn backoff_ceiling_doubles_then_caps() {
        assert_eq!(backoff_ceiling(1), Duration::from_millis(500));
        assert_eq!(backoff_ceiling(2), Duration::from_secs(1));
        assert_eq!(backoff_ceiling(4), Duration::from_secs(4));
        assert_eq!(backoff_ceiling(7), BACKOFF_CAP);
        assert_eq!(backoff_ceiling(u32::MAX), BACKOFF_CAP);
    }

    #[test]
    fn backoff_stays_within_ceiling_and_spreads() {
        let mut rng = rand::rng();
        for attempt in 1..10 {
            let samples: Vec<Duration> = (0..200).map(|_| backoff(attempt, &mut rng)).collect();
            assert!(samples.iter().all(|d| *d <= backoff_ceiling(attempt)));
            let distinct: std::collections::BTreeSet<_> = samples.iter().collect();
            assert!(
                distinct.len() > 20,
                "attempt {attempt}: jitter should spread values"
            );
        }
    }

    #[test]
    fn only_safe_requests_repeat_after_ambiguous_failures() {
        assert!(Replay::Idempotent.may_repeat_after_ambiguous_failure());
        assert!(Replay::Create.may_repeat_after_ambiguous_failure());
        assert!(!Replay::Unsafe.may_repeat_after_ambiguous_failure());
    }
}
