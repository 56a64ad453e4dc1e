//! `sync_mailbox`: one sync run of one mailbox (pull, plan, push Outlook), as a blocking Python call that
//! releases the GIL while it works. The logic is `outlook_runner::run`; this file only converts.
//!
//! Everything crosses the boundary as JSON-friendly dicts (what the addon stores in a `Json` field):
//!
//! - `state`: the previous call's `result["state"]`, or `None` for the first run (or after a reset):
//!   `{"delta_link": str|None, "links": [{<status fields>, "remote": <event>|None}], "pending_remote": [str],
//!   "excluded_local": [str]}`.
//! - `local`: `{"kind": "full", "events": [item...]}` or `{"kind": "delta", "changed": [item...],
//!   "deleted": [int...], "deleted_hashes": {str(int): str}}`, where `item` is `{"values": <calendar.event values
//!   as in OdooEvent>, "modified_at": <write_date: Odoo's naive UTC "YYYY-MM-DD HH:MM:SS", an ISO string with
//!   offset, or None>}`. `deleted_hashes` (optional) gives, for a deleted event changed since the last
//!   committed run, `local_hash` of its last values: an Outlook copy with that content is the echo of a run
//!   that died after writing it, and is deleted instead of undoing the deletion.
//! - result: `{"local_ops": [...], "state": {...}, "retry_local": [int], "report": {...}, "tokens": Tokens}`.
//!   Each local op is `{"action": "create"|"update"|"delete", "remote_id", "local_id", "values", "link",
//!   "previous"}`: apply them and store `state` in one transaction, adding each op's `link` when it succeeded
//!   (for a create, with `link["local_id"]` set to the new record id as a string). When a write failed,
//!   store its `previous` instead AND append its Outlook id (`remote_id`, or for a delete
//!   `previous["remote_id"]`) to `state["pending_remote"]`: the delta link has moved past that change, so this
//!   is how the next run reads it again. Store `tokens` after every call: the refresh token rotates.
//! - `sent` / `on_sent` (the sent journal): `on_sent(writes)` is called, GIL held, with a list of dicts: once
//!   before the updates are sent (entries with `delivery: "pending"`), then each time Outlook answers a group of
//!   writes (one `$batch` envelope: `"confirmed"` or `"refused"` entries); commit them at once, outside the run's
//!   transaction. Pass those written by runs whose state was never committed (a killed worker) as `sent` to
//!   the next call, oldest first, and drop them once a call's state is committed. Without them, the next run
//!   takes the echo of what the dead run sent for a person's Outlook edit.
//! - A local record that does not read (a wrong-typed field) is a failure of that record in the report, its id
//!   is in `retry_local`, and the rest of the run goes on; a malformed `local` as a whole is a `ValueError`.

use jiff::{SignedDuration, Timestamp};
use outlook_graph::{GraphClient, OAuthClient};
use outlook_model::odoo::OdooEvent;
use outlook_runner::{
    ConflictPolicy, FirstSync, RunError, RunInput, RunOptions, SentWrite, SyncState,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

use crate::config::{PyGraphConfig, PyTokens};
use crate::convert::{from_py, timestamp_from_py, to_py};
use crate::errors::graph_error;
use crate::runtime;

mod py {
    pyo3::import_exception!(outlook_sync.errors, SyncStoppedError);
    pyo3::import_exception!(outlook_sync.errors, SafetyStopError);
}

/// Default window of a full round: what a calendar user looks back on and plans ahead.
const DEFAULT_PAST: SignedDuration = SignedDuration::from_hours(30 * 24);
const DEFAULT_FUTURE: SignedDuration = SignedDuration::from_hours(365 * 24);

/// Runs one sync of `mailbox`: reads Outlook's changes, plans against `state` and `local`, writes Outlook
/// (unless `dry_run`), and returns the Odoo writes, the new state, a report and the current tokens.
///
/// `policy`: `"latest"` (default), `"local"` or `"remote"`. `first_sync`: `"all"` (default), `"future"` or
/// `"none"`. `transaction_salt` identifies the database and the mailbox link and must never change for a
/// link. `window_start` / `window_end` (aware datetimes) bound a full round; default 30 days back to 365
/// ahead.
///
/// Raises `ValueError` for malformed input, the `outlook_sync.errors` Graph exceptions when Outlook cannot
/// be read, and `SyncStoppedError` (`SafetyStopError` when a side that had events is suddenly empty; `kind` is
/// `"safety_stop"`, `"plan"` or `"apply"`) when the run as a whole stops; nothing is written to Outlook then, so
/// keep the stored state.
#[pyfunction]
#[pyo3(signature = (config, tokens, state, local, *, mailbox, transaction_salt, policy="latest",
                    first_sync="all", dry_run=false, window_start=None, window_end=None, sent=None,
                    on_sent=None))]
#[allow(clippy::too_many_arguments)]
pub fn sync_mailbox<'py>(
    py: Python<'py>,
    config: PyGraphConfig,
    tokens: PyTokens,
    state: Option<&Bound<'py, PyAny>>,
    local: &Bound<'py, PyAny>,
    mailbox: String,
    transaction_salt: String,
    policy: &str,
    first_sync: &str,
    dry_run: bool,
    window_start: Option<&Bound<'py, PyAny>>,
    window_end: Option<&Bound<'py, PyAny>>,
    sent: Option<&Bound<'py, PyAny>>,
    on_sent: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let state: SyncState = match state {
        Some(state) if !state.is_none() => serde_json::from_value(from_py(state)?)
            .map_err(|e| PyValueError::new_err(format!("state: {e}")))?,
        _ => SyncState::default(),
    };
    let mut local_json = from_py(local)?;
    normalize_modified_at(&mut local_json)?;
    let read = crate::local::read_local(local_json)?;
    let now = Timestamp::now();
    let options = RunOptions {
        mailbox: mailbox.trim().to_owned(),
        policy: parse_policy(policy)?,
        first_sync: parse_first_sync(first_sync)?,
        dry_run,
        transaction_salt,
        window_start: match window_start {
            Some(start) => timestamp_from_py(start, "window_start")?,
            None => now - DEFAULT_PAST,
        },
        window_end: match window_end {
            Some(end) => timestamp_from_py(end, "window_end")?,
            None => now + DEFAULT_FUTURE,
        },
        now,
    };

    let engine = runtime::engine().map_err(|e| graph_error(py, &e))?;
    let oauth = OAuthClient::new(engine.http.clone(), config.endpoints(), config.app())
        .map_err(|e| graph_error(py, &e))?;
    let mut client_options = config.options();
    client_options.log_label = options.mailbox.clone();
    let client = GraphClient::new(
        engine.http.clone(),
        config.endpoints(),
        Some(oauth),
        tokens.inner,
        client_options,
    );
    let sent: Vec<SentWrite> = match sent {
        Some(sent) if !sent.is_none() => serde_json::from_value(from_py(sent)?)
            .map_err(|e| PyValueError::new_err(format!("sent: {e}")))?,
        _ => Vec::new(),
    };
    let input = RunInput {
        state,
        local: read.listing,
        sent,
    };
    let journal = |writes: Vec<SentWrite>| {
        if let Some(callback) = &on_sent {
            record_sent(callback, &writes, &options.mailbox);
        }
    };
    let outcome = py.detach(|| {
        engine.runtime.block_on(outlook_runner::run_journaled(
            &client, input, &options, &journal,
        ))
    });
    // Whatever happened, the tokens may have rotated: hand them back even on error.
    let rotated = PyTokens {
        inner: client.tokens(),
    };
    let mut output = match outcome {
        Ok(output) => output,
        Err(error) => return Err(run_error(py, &error, rotated)),
    };
    // Records the addon handed over malformed: reported, and kept queued for the next run.
    output.report.failures.extend(read.failures);
    output.retry_local.extend(read.held);
    let value = serde_json::to_value(&output)
        .map_err(|e| PyValueError::new_err(format!("sync result could not be converted: {e}")))?;
    let result = to_py(py, &value)?.cast_into::<PyDict>()?;
    result.set_item("tokens", Bound::new(py, rotated)?)?;
    Ok(result)
}

/// The content hash the engine keeps for an Odoo record with these `values` (the `values` of a `local`
/// item). After applying a local op, the addon re-reads the record and stores this hash in the op's link:
/// Odoo normalises what it is given (sanitised HTML, matched partners, rounded alarms), and what the next
/// run compares is what Odoo holds, not what was sent.
#[pyfunction]
pub fn local_hash(values: &Bound<'_, PyAny>) -> PyResult<String> {
    let values: OdooEvent = serde_json::from_value(from_py(values)?)
        .map_err(|e| PyValueError::new_err(format!("values: {e}")))?;
    let event = values
        .to_event()
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(outlook_model::semantic_hash_hex(&event))
}

/// Hands journal entries to the addon's `on_sent(list)`, which commits them outside the run's
/// transaction. A failure there is logged, not raised: the run's own result is still good, and the
/// journal only narrows what a killed run leaves unknown.
fn record_sent(callback: &Py<PyAny>, writes: &[SentWrite], mailbox: &str) {
    Python::attach(|py| {
        let result = serde_json::to_value(writes)
            .map_err(|e| PyValueError::new_err(e.to_string()))
            .and_then(|value| to_py(py, &value))
            .and_then(|list| callback.call1(py, (list,)));
        if let Err(error) = result {
            log::warn!(
                target: "outlook_sync::sync",
                "[{mailbox}] the sent journal could not record {} write(s): {}",
                writes.len(),
                crate::logging::redact(&error.to_string())
            );
        }
    });
}

fn parse_policy(policy: &str) -> PyResult<ConflictPolicy> {
    match policy {
        "latest" => Ok(ConflictPolicy::LatestWins),
        "local" => Ok(ConflictPolicy::LocalWins),
        "remote" => Ok(ConflictPolicy::RemoteWins),
        other => Err(PyValueError::new_err(format!(
            "policy {other:?}: expected 'latest', 'local' or 'remote'"
        ))),
    }
}

fn parse_first_sync(first_sync: &str) -> PyResult<FirstSync> {
    match first_sync {
        "all" => Ok(FirstSync::All),
        "future" => Ok(FirstSync::Future),
        "none" => Ok(FirstSync::None),
        other => Err(PyValueError::new_err(format!(
            "first_sync {other:?}: expected 'all', 'future' or 'none'"
        ))),
    }
}

/// Odoo's `write_date` arrives as naive UTC text (`"2024-03-31 08:30:00"`); the runner wants an instant.
fn normalize_modified_at(local: &mut Value) -> PyResult<()> {
    let Some(object) = local.as_object_mut() else {
        return Ok(());
    };
    for key in ["events", "changed"] {
        let Some(items) = object.get_mut(key).and_then(Value::as_array_mut) else {
            continue;
        };
        for (index, item) in items.iter_mut().enumerate() {
            let Some(field) = item.get_mut("modified_at") else {
                continue;
            };
            match field {
                Value::Bool(false) => *field = Value::Null,
                Value::String(text) => {
                    let instant = match text.parse::<Timestamp>() {
                        Ok(ts) => ts,
                        Err(_) => text
                            .replace(' ', "T")
                            .parse::<jiff::civil::DateTime>()
                            .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC))
                            .map(|z| z.timestamp())
                            .map_err(|e| {
                                PyValueError::new_err(format!(
                                    "local.{key}[{index}].modified_at {text:?} is not a date-time: {e}"
                                ))
                            })?,
                    };
                    *field = Value::String(instant.to_string());
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The Python exception for a run that stopped as a whole; it carries the rotated tokens as `tokens`.
fn run_error(py: Python<'_>, error: &RunError, tokens: PyTokens) -> PyErr {
    let err = match error {
        RunError::Pull { source, .. } => graph_error(py, source),
        RunError::Input { .. } => PyValueError::new_err(error.to_string()),
        RunError::Plan { .. } | RunError::Apply { .. } => {
            let message = crate::logging::redact(&error.to_string());
            let err = if error.is_safety_stop() {
                py::SafetyStopError::new_err(message)
            } else {
                py::SyncStoppedError::new_err(message)
            };
            let kind = match error {
                _ if error.is_safety_stop() => "safety_stop",
                RunError::Apply { .. } => "apply",
                _ => "plan",
            };
            let _ = err.value(py).setattr("kind", kind);
            err
        }
    };
    if let Ok(tokens) = Bound::new(py, tokens) {
        let _ = err.value(py).setattr("tokens", tokens);
    }
    err
}
