//! Shared by the hostile-input property tests: case counts, the run loop, the summary line.
//!
//! Short form (plain `cargo test`): a few hundred cases per property, about a second in all. Long
//! form, with one `hostile-input: suite=... cases=N panics=0 ...` line per property:
//!
//! ```text
//! PROPTEST_CASES=20000 cargo test -p outlook-model --test 'hostile_*' --test html_sanitize_props \
//!     -- --nocapture
//! ```
// Each test binary includes this module and uses part of it.
#![allow(dead_code)]

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};

use outlook_model::ModelError;
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// What one case did with its hostile input.
pub enum Outcome {
    /// Converted.
    Accepted,
    /// Refused with an error (checked by the property to name the item and field).
    Refused,
}

/// `PROPTEST_CASES` when set, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `property` over `strategy` (shrinking on failure; a panic is a failure), then prints
/// `hostile-input: suite=<name> cases=N panics=0 accepted=A items_failed_cleanly=R`.
pub fn run<S: Strategy>(
    name: &str,
    default_cases: u32,
    strategy: S,
    property: impl Fn(S::Value) -> Result<Outcome, TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let cases = cases(default_cases);
    let mut runner = TestRunner::new(Config {
        cases,
        // Regressions of these suites live in the example tests; no persistence file to manage.
        failure_persistence: None,
        ..Config::default()
    });
    let (accepted, refused, panics) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let result = runner.run(&strategy, |value| {
        // Caught here (not only by proptest) so that the summary counts them.
        match std::panic::catch_unwind(AssertUnwindSafe(|| property(value))) {
            Ok(Ok(Outcome::Accepted)) => accepted.fetch_add(1, Ordering::Relaxed),
            Ok(Ok(Outcome::Refused)) => refused.fetch_add(1, Ordering::Relaxed),
            Ok(Err(failure)) => return Err(failure),
            Err(panic) => {
                panics.fetch_add(1, Ordering::Relaxed);
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                return Err(TestCaseError::fail(format!("panicked: {message}")));
            }
        };
        Ok(())
    });
    let panics = panics.load(Ordering::Relaxed);
    println!(
        "hostile-input: suite={name} cases={cases} panics={panics} accepted={} items_failed_cleanly={}",
        accepted.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
    );
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

/// The field an error names, whatever its kind.
pub fn error_field(error: &ModelError) -> &str {
    match error {
        ModelError::UnknownTimeZone { field, .. }
        | ModelError::Json { field, .. }
        | ModelError::InvalidValue { field, .. }
        | ModelError::RecurrenceNotRepresentable { field, .. } => field,
        _ => "",
    }
}

/// The item an error names.
pub fn error_item(error: &ModelError) -> &str {
    match error {
        ModelError::UnknownTimeZone { item, .. }
        | ModelError::Json { item, .. }
        | ModelError::InvalidValue { item, .. }
        | ModelError::RecurrenceNotRepresentable { item, .. } => item,
        _ => "",
    }
}

/// Every error must say which item and which field, and stay readable in a sync log.
pub fn check_error_shape(error: &ModelError) -> Result<(), TestCaseError> {
    let text = error.to_string();
    if error_item(error).is_empty() || error_field(error).is_empty() {
        return Err(TestCaseError::fail(format!(
            "error without item or field: {text}"
        )));
    }
    if text.chars().count() > 2_000 {
        return Err(TestCaseError::fail(format!(
            "error of {} characters",
            text.chars().count()
        )));
    }
    Ok(())
}
