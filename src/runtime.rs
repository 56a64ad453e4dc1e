//! One tokio runtime and one HTTP client per process, created lazily and rebuilt after `fork()`.
//!
//! Odoo's prefork server loads addons in the master and forks workers afterwards. A runtime created before the
//! fork is dead in the child (its worker threads were not copied) and `block_on` hangs there for ever. So the
//! runtime lives with the id of the process that built it; a different id means we are in a forked child and
//! must build a fresh one. The inherited runtime is leaked on purpose: dropping it would try to join threads
//! that do not exist in this process.

use std::sync::{Arc, Mutex};

use outlook_graph::{ClientOptions, GraphError};

/// What one process needs to talk HTTP: the runtime that drives the futures and a connection pool bound to it.
pub struct Engine {
    pub runtime: tokio::runtime::Runtime,
    pub http: reqwest::Client,
}

struct PerProcess {
    pid: u32,
    engine: Arc<Engine>,
}

static CURRENT: Mutex<Option<PerProcess>> = Mutex::new(None);

/// The engine of this process, built on first use and after every fork.
pub fn engine() -> Result<Arc<Engine>, GraphError> {
    let pid = std::process::id();
    let mut current = CURRENT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(existing) = current.as_ref() {
        if existing.pid == pid {
            return Ok(existing.engine.clone());
        }
    }
    if let Some(inherited) = current.take() {
        // Forked child: the parent's runtime threads do not exist here. Never drop it (see module docs).
        std::mem::forget(inherited);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("outlook-sync")
        .enable_all()
        .build()
        .map_err(|e| GraphError::Transport {
            message: format!("could not start the I/O runtime: {e}"),
            timeout: false,
        })?;
    let http = {
        // reqwest's builder may touch the runtime (DNS resolver, timers): build it inside.
        let _guard = runtime.enter();
        outlook_graph::http_client(&ClientOptions::default())?
    };
    let engine = Arc::new(Engine { runtime, http });
    *current = Some(PerProcess {
        pid,
        engine: engine.clone(),
    });
    Ok(engine)
}

/// The id of the current process, to detect forks in objects that cache engine-bound state.
pub fn current_pid() -> u32 {
    std::process::id()
}
