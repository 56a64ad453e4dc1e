//! The one place where Rust errors become Python exceptions.
//!
//! The exception classes are defined in Python (`outlook_sync/errors.py`), so they are documented, picklable
//! and importable without the native module; this file only chooses the class and sets its attributes.

use outlook_graph::GraphError;
use pyo3::prelude::*;

mod py {
    pyo3::import_exception!(outlook_sync.errors, OutlookSyncError);
    pyo3::import_exception!(outlook_sync.errors, AuthError);
    pyo3::import_exception!(outlook_sync.errors, InvalidGrantError);
    pyo3::import_exception!(outlook_sync.errors, InteractionRequiredError);
    pyo3::import_exception!(outlook_sync.errors, ReconnectRequired);
    pyo3::import_exception!(outlook_sync.errors, InvalidClientError);
    pyo3::import_exception!(outlook_sync.errors, ThrottledError);
    pyo3::import_exception!(outlook_sync.errors, GraphApiError);
    pyo3::import_exception!(outlook_sync.errors, TransportError);
    pyo3::import_exception!(outlook_sync.errors, PayloadError);
}

/// The Python exception for a Graph client error; its message is the error's own (already redacted) text.
pub fn graph_error(py: Python<'_>, error: &GraphError) -> PyErr {
    let message = crate::logging::redact(&error.to_string());
    match error {
        GraphError::InvalidGrant { .. } => py::InvalidGrantError::new_err(message),
        GraphError::InvalidClient { .. } => py::InvalidClientError::new_err(message),
        GraphError::InteractionRequired { .. } => py::InteractionRequiredError::new_err(message),
        GraphError::OAuth { .. } => py::AuthError::new_err(message),
        GraphError::Unauthorized { .. } => py::ReconnectRequired::new_err(message),
        GraphError::Throttled { retry_after, .. } => {
            let err = py::ThrottledError::new_err(message);
            let seconds = retry_after.map(|d| d.as_secs_f64());
            set(py, &err, "retry_after", seconds);
            err
        }
        GraphError::Api {
            status,
            code,
            request_id,
            ..
        } => {
            let err = py::GraphApiError::new_err(message);
            set(py, &err, "status", *status);
            set(py, &err, "code", code.as_str());
            set(py, &err, "request_id", request_id.as_deref());
            err
        }
        GraphError::Transport { timeout, .. } => {
            let err = py::TransportError::new_err(message);
            set(py, &err, "timeout", *timeout);
            err
        }
        GraphError::Payload { .. } => py::PayloadError::new_err(message),
        #[allow(unreachable_patterns)]
        _ => py::OutlookSyncError::new_err(message),
    }
}

/// Sets an attribute on the exception instance. Failing to set one must not hide the error itself.
fn set<'py, V: IntoPyObject<'py>>(py: Python<'py>, err: &PyErr, name: &str, value: V) {
    let _ = err.value(py).setattr(name, value);
}
