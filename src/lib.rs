//! `outlook_sync._native`: the Python face of the Rust crates.
//!
//! Everything here is a thin adapter: arguments become owned Rust values, the call runs on the per-process
//! runtime with the GIL released, results become plain Python objects, errors become the exceptions of
//! `outlook_sync.errors`. The logic lives in `crates/`.

mod client;
mod config;
mod convert;
mod emulator;
mod errors;
mod local;
mod logging;
mod oauth;
mod runtime;
mod sync;

use pyo3::prelude::*;

/// Masks tokens, secrets and authorization codes in `text` (what the library does to its own log records).
#[pyfunction]
fn redact(text: &str) -> String {
    logging::redact(text)
}

/// An event body (HTML) as the engine compares it (`outlook_model::hash::normalize_body`): the
/// content of `<body>` when there is a wrapper, whitespace runs collapsed, ends trimmed. Two bodies
/// with the same form are the same body to a sync run.
#[pyfunction]
fn normalize_body(html: &str) -> String {
    outlook_model::hash::normalize_body(html)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logging::install(m.py())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<config::PyGraphConfig>()?;
    m.add_class::<config::PyTokens>()?;
    m.add_class::<oauth::PyOAuth>()?;
    m.add_class::<oauth::PyAuthorizationRequest>()?;
    m.add_class::<client::PyGraphClient>()?;
    m.add_class::<client::PyDeltaResult>()?;
    m.add_class::<emulator::PyEmulatorServer>()?;
    m.add_function(wrap_pyfunction!(redact, m)?)?;
    m.add_function(wrap_pyfunction!(normalize_body, m)?)?;
    m.add_function(wrap_pyfunction!(sync::sync_mailbox, m)?)?;
    m.add_function(wrap_pyfunction!(sync::local_hash, m)?)?;
    Ok(())
}
