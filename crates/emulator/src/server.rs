//! The HTTP server: the shared state, the axum router, and a serve loop on its own thread and runtime.
//!
//! The serve loop drives hyper directly (instead of `axum::serve`) so that a response can be withheld and
//! its connection dropped: that is how `reset` and `lose_response` faults look to a client.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::graph::{self, GraphRequest, GraphResponse, Outcome};
use crate::store::World;

/// The emulator's shared state.
#[derive(Debug, Default)]
pub struct Emulator {
    world: Mutex<World>,
    /// Built on first use, for webhook deliveries.
    http: std::sync::OnceLock<reqwest::Client>,
}

impl Emulator {
    /// A fresh emulator with no mailboxes.
    pub fn new() -> Arc<Emulator> {
        Arc::new(Emulator::default())
    }

    /// Runs `f` with the state locked. Never held across an await.
    pub(crate) fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut guard = self
            .world
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    /// The client webhook deliveries use: no proxy (delivery goes only where the client said) and no
    /// redirects followed (an endpoint cannot send the emulator elsewhere).
    pub(crate) fn http_client(&self) -> Result<reqwest::Client, reqwest::Error> {
        if let Some(client) = self.http.get() {
            return Ok(client.clone());
        }
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(self.http.get_or_init(|| client).clone())
    }
}

/// Marks a response whose connection must be dropped instead of answered.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for DropConnection {}

/// The largest request body accepted.
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// The axum router serving identity, Graph and test-control routes, for embedding.
pub fn router(state: Arc<Emulator>) -> Router {
    Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(crate::signin::authorize),
        )
        .route("/{tenant}/oauth2/v2.0/token", post(crate::signin::token))
        .route("/v1.0/{*rest}", any(graph_handler))
        .nest("/_emulator", crate::controls::routes())
        // Seeding thousands of events for a benchmark is a large body; Graph itself has no 2 MB cap on them.
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// `http://host:port` as the client addressed us, for links in responses.
pub fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

async fn graph_handler(
    State(emulator): State<Arc<Emulator>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrived = std::time::Instant::now();
    let path = uri.path().strip_prefix("/v1.0").unwrap_or(uri.path());
    let path = percent_decode(path);
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let header_list: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_ascii_lowercase(), v.to_owned()))
        })
        .collect();
    let body_json = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => Some(v),
            Err(e) => {
                let err = crate::errors::GraphError::new(
                    400,
                    "BadRequest",
                    format!("Unable to read JSON request payload: {e}."),
                );
                return to_response(Outcome::Respond(GraphResponse::error(
                    &err,
                    &crate::ids::guid(),
                    None,
                )));
            }
        }
    };
    let req = GraphRequest {
        method: method.as_str().to_ascii_uppercase(),
        path,
        query,
        headers: header_list,
        body: body_json,
        origin: origin(&headers),
        arrived,
    };
    // Method and path only: ids are not secret, headers (tokens) are never logged.
    let line = format!("{} /v1.0{}", req.method, req.path);
    let outcome = if req.path == "/$batch" {
        batch_envelope(&emulator, req).await
    } else {
        graph::run(&emulator, req, false).await
    };
    match &outcome {
        Outcome::Respond(resp) => log::debug!("outlook-emulator: {line} -> {}", resp.status),
        Outcome::Drop => log::debug!("outlook-emulator: {line} -> connection dropped (fault)"),
    }
    to_response(outcome)
}

fn percent_decode(path: &str) -> String {
    url::form_urlencoded::parse(format!("p={}", path.replace('+', "%2B")).as_bytes())
        .next()
        .map_or_else(|| path.to_owned(), |(_, v)| v.into_owned())
}

/// The `$batch` envelope: authenticated and counted like any request; faults reach it only when they name
/// `$batch` in `path_contains`.
async fn batch_envelope(emulator: &Arc<Emulator>, req: GraphRequest) -> Outcome {
    let request_id = crate::ids::guid();
    let token = req
        .header("authorization")
        .and_then(|h| h.split_once(' '))
        .map(|(_, t)| t.trim().to_owned());
    let (auth, fault) = emulator.with_world(|w| {
        let auth = match &token {
            Some(t) => w.identity.check_access(t),
            None => Err("Access token is empty."),
        };
        graph::count(
            w,
            &format!("{} /v1.0/$batch", req.method),
            auth.as_ref().ok().map(String::as_str),
            false,
        );
        let fault = match &auth {
            Ok(m) => graph::take_fault(w, &req.method, "/v1.0/$batch", m, true),
            Err(_) => None,
        };
        (auth, fault)
    });
    if let Err(message) = auth {
        return Outcome::Respond(GraphResponse::error(
            &crate::errors::GraphError::unauthenticated(message),
            &request_id,
            None,
        ));
    }
    if req.method != "POST" {
        let err = crate::errors::GraphError::new(405, "BadRequest", "$batch accepts only POST.");
        return Outcome::Respond(GraphResponse::error(&err, &request_id, None));
    }
    let mut lose = false;
    if let Some(fault) = fault {
        use crate::store::FaultKind;
        match fault.kind {
            FaultKind::Reset => return Outcome::Drop,
            FaultKind::LoseResponse => lose = true,
            FaultKind::Error => {
                let err = crate::errors::GraphError::new(
                    fault.status.unwrap_or(500),
                    "generalException",
                    "An injected fault of the emulator.",
                );
                return Outcome::Respond(GraphResponse::error(&err, &request_id, None));
            }
            FaultKind::Throttle => {
                let retry = fault.retry_after.as_ref().map_or_else(
                    || "1".to_owned(),
                    |v| v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                );
                emulator.with_world(|w| w.counters.throttled += 1);
                let err = crate::errors::GraphError::throttled(fault.status.unwrap_or(429), &retry);
                return Outcome::Respond(GraphResponse::error(&err, &request_id, None));
            }
        }
    }
    let outcome = crate::batch::run(emulator, req).await;
    if lose { Outcome::Drop } else { outcome }
}

fn to_response(outcome: Outcome) -> Response {
    let resp = match outcome {
        Outcome::Drop => {
            let mut resp = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            resp.extensions_mut().insert(DropConnection);
            return resp;
        }
        Outcome::Respond(resp) => resp,
    };
    let status = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = resp
        .body
        .as_ref()
        .map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let mut out = Response::builder()
        .status(status)
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    for (k, v) in &resp.headers {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::try_from(k.as_str()),
            HeaderValue::from_str(v),
        ) {
            out.headers_mut().append(name, value);
        }
    }
    out
}

/// A running emulator. Dropping it stops the server too.
pub struct EmulatorHandle {
    base_url: String,
    shutdown: Option<watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl EmulatorHandle {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Graceful shutdown: stops accepting, lets open requests finish briefly, joins the thread.
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

/// Binds synchronously (so the port is known and errors surface here), then serves on a dedicated OS thread
/// with its own multi-thread tokio runtime (2 workers), so it works from sync code, from Python and from
/// inside another tokio runtime (tests) alike.
pub fn start(addr: SocketAddr) -> std::io::Result<EmulatorHandle> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("outlook-emulator")
        .enable_all()
        .build()?;
    let (tx, rx) = watch::channel(false);
    let app = router(Emulator::new());
    let thread = std::thread::Builder::new()
        .name("outlook-emulator".to_owned())
        .spawn(move || {
            runtime.block_on(serve(listener, app, rx));
        })?;
    Ok(EmulatorHandle {
        base_url: format!("http://{local}"),
        shutdown: Some(tx),
        thread: Some(thread),
    })
}

async fn serve(listener: std::net::TcpListener, app: Router, mut shutdown: watch::Receiver<bool>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            log::error!("outlook-emulator: cannot register the listener with tokio: {e}");
            return;
        }
    };
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                connections.spawn(serve_connection(stream, app.clone(), shutdown.clone()));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    let drain = async { while connections.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
    connections.abort_all();
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    app: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let app = app.clone();
        async move {
            let resp = match app.oneshot(req.map(Body::new)).await {
                Ok(resp) => resp,
                Err(never) => match never {},
            };
            if resp.extensions().get::<DropConnection>().is_some() {
                Err(DropConnection)
            } else {
                Ok(resp)
            }
        }
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
