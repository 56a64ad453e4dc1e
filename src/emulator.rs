//! `EmulatorServer`: our Graph emulator, started in this process on its own thread.

use std::sync::Mutex;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;

/// A running emulator. `url` is its base URL (identity endpoints, `/v1.0/` and `/_emulator/` controls).
#[pyclass(frozen, module = "outlook_sync._native", name = "EmulatorServer")]
pub struct PyEmulatorServer {
    #[pyo3(get)]
    url: String,
    handle: Mutex<Option<outlook_emulator::EmulatorHandle>>,
}

#[pymethods]
impl PyEmulatorServer {
    /// Binds `host:port` (port 0 picks a free one) and starts serving. Binding errors raise `OSError`.
    #[new]
    #[pyo3(signature = (host="127.0.0.1", port=0))]
    fn new(py: Python<'_>, host: &str, port: u16) -> PyResult<Self> {
        let ip: std::net::IpAddr = host.parse().map_err(|_| {
            PyValueError::new_err(format!("host must be an IP address, not {host:?}"))
        })?;
        let addr = std::net::SocketAddr::new(ip, port);
        let handle = py.detach(|| outlook_emulator::start(addr)).map_err(|e| {
            PyOSError::new_err(format!("could not start the emulator on {addr}: {e}"))
        })?;
        Ok(Self {
            url: handle.base_url().to_owned(),
            handle: Mutex::new(Some(handle)),
        })
    }

    /// Stops the server and waits for it; idempotent.
    fn stop(&self, py: Python<'_>) {
        let handle = self
            .handle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            py.detach(|| handle.stop());
        }
    }

    #[getter]
    fn running(&self) -> bool {
        self.handle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some()
    }

    fn __repr__(&self) -> String {
        format!(
            "EmulatorServer(url={:?}, running={})",
            self.url,
            self.running()
        )
    }
}
