//! [`GraphClient`]: one mailbox's authenticated, throttled, retrying door to Graph. The operations
//! themselves live in `events`, `delta` and `batch`; this module owns the request loop.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use http::header::{ACCEPT, CONTENT_TYPE, HeaderMap};
use http::{Method, StatusCode};
use url::Url;

use crate::config::{ClientOptions, Endpoints};
use crate::error::{GraphError, api_error};
use crate::gate::Gate;
use crate::oauth::{OAuthClient, TokenSet};
use crate::retry::{Replay, backoff, parse_retry_after};
use crate::secret::Secret;
use crate::transport::{client_request_id, transport_error};

const LOG: &str = "outlook_sync::graph::http";

/// Refresh this long before the access token expires, so a request never leaves with a token that
/// dies in flight.
const REFRESH_MARGIN: jiff::SignedDuration = jiff::SignedDuration::from_secs(120);

/// The Graph API version every path is relative to.
const API_VERSION: &str = "v1.0";

/// A Graph client for one mailbox. Cheap to clone; clones share tokens, the concurrency limit and
/// the throttling pause.
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// `{graph_url}/v1.0`, or why the configured URL is unusable.
    base: Result<Url, GraphError>,
    oauth: Option<OAuthClient>,
    tokens: Mutex<TokenSet>,
    /// Single-flight refresh: concurrent requests that all see an expired token refresh once.
    refreshing: tokio::sync::Mutex<()>,
    gate: Gate,
    options: ClientOptions,
    /// Log-line prefix naming the mailbox.
    who: String,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("base", &self.inner.base.as_ref().map(Url::as_str))
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

/// One request as the retry loop sees it.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) replay: Replay,
    /// Execution slots this request occupies at Outlook (a `$batch` counts up to 4).
    pub(crate) weight: u32,
    /// Send `Prefer: odata.maxpagesize`.
    pub(crate) paged: bool,
}

impl Call {
    pub(crate) fn new(method: Method, url: Url, replay: Replay) -> Self {
        Self {
            method,
            url,
            body: None,
            replay,
            weight: 1,
            paged: false,
        }
    }

    pub(crate) fn json(mut self, body: &serde_json::Value) -> Self {
        self.body = Some(body.to_string().into_bytes());
        self
    }

    /// `GET /v1.0/me/events` style label for logs and errors: no query (it can hold delta state).
    pub(crate) fn label(&self) -> String {
        format!("{} {}", self.method, self.url.path())
    }
}

/// A successful (2xx) response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// The body as JSON, or a [`GraphError::Payload`] naming `context`.
    pub(crate) fn json(&self, context: &str) -> Result<serde_json::Value, GraphError> {
        serde_json::from_slice(&self.body).map_err(|e| GraphError::Payload {
            context: context.to_owned(),
            detail: if self.body.is_empty() {
                format!("empty body with status {}", self.status.as_u16())
            } else {
                format!(
                    "body is not JSON ({e}): {}",
                    crate::error::snippet(&self.body)
                )
            },
        })
    }
}

/// What one attempt produced, before retry policy.
enum Attempt {
    Answered {
        status: StatusCode,
        headers: HeaderMap,
        body: Vec<u8>,
    },
    Failed {
        error: GraphError,
        /// The request certainly never reached the server (connect failed).
        unsent: bool,
    },
}

impl GraphClient {
    /// A client for the mailbox `tokens` belong to. `oauth` refreshes them; without it an expired
    /// token ends in [`GraphError::Unauthorized`]. An unusable `endpoints.graph_url` is reported by
    /// every call as [`GraphError::InvalidInput`].
    pub fn new(
        http: reqwest::Client,
        endpoints: Endpoints,
        oauth: Option<OAuthClient>,
        tokens: TokenSet,
        options: ClientOptions,
    ) -> Self {
        let base = graph_base(&endpoints.graph_url);
        let who = if options.log_label.is_empty() {
            String::new()
        } else {
            format!("[{}] ", options.log_label)
        };
        Self {
            inner: Arc::new(Inner {
                http,
                base,
                oauth,
                tokens: Mutex::new(tokens),
                refreshing: tokio::sync::Mutex::new(()),
                gate: Gate::new(options.max_in_flight),
                options,
                who,
            }),
        }
    }

    /// The current tokens, after any refresh. Persist them after every run: the refresh token
    /// rotates.
    pub fn tokens(&self) -> TokenSet {
        self.inner
            .tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Holds every request of this mailbox for `wait` (after a 429 inside a `$batch`).
    pub(crate) fn pause_mailbox(&self, wait: Duration) {
        self.inner.gate.pause_for(wait);
    }

    /// `"[label] "` for log lines when [`ClientOptions::log_label`] is set, else `""`.
    pub(crate) fn who(&self) -> &str {
        &self.inner.who
    }

    pub(crate) fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// `{base}/{segments...}`, each segment percent-encoded (ids contain `/`, `+`, `=`).
    pub(crate) fn url(&self, segments: &[&str]) -> Result<Url, GraphError> {
        let mut url = self.inner.base.clone()?;
        url.path_segments_mut()
            .map_err(|()| GraphError::InvalidInput {
                context: "Graph URL".to_owned(),
                detail: "cannot hold a path".to_owned(),
            })?
            .extend(segments);
        Ok(url)
    }

    /// Checks that a link Graph gave us (`@odata.nextLink`, a stored deltaLink) points at the
    /// configured Graph origin, so the bearer token never goes anywhere else.
    pub(crate) fn own_link(&self, link: &str, context: &str) -> Result<Url, GraphError> {
        let base = self.inner.base.clone()?;
        let url = Url::parse(link).map_err(|e| GraphError::Payload {
            context: context.to_owned(),
            detail: format!("link is not a URL ({e})"),
        })?;
        if url.origin() != base.origin() {
            return Err(GraphError::Payload {
                context: context.to_owned(),
                detail: format!(
                    "link points to {} instead of the configured Graph endpoint {}",
                    url.origin().ascii_serialization(),
                    base.origin().ascii_serialization()
                ),
            });
        }
        Ok(url)
    }

    /// Sends `call` with authentication, the mailbox's concurrency limit and pause, and retries.
    /// Returns the 2xx response, or the error that ended the attempts.
    pub(crate) async fn execute(&self, call: &Call) -> Result<Reply, GraphError> {
        let options = &self.inner.options;
        let mut attempt: u32 = 0;
        let mut waited = Duration::ZERO;
        let mut refreshed = false;
        loop {
            attempt += 1;
            let token = self.bearer().await?;
            let (wait, failure, mailbox_paused) = match self.attempt(call, &token).await {
                Attempt::Answered { status, body, .. } if status.is_success() => {
                    return Ok(Reply { status, body });
                }
                Attempt::Answered {
                    status,
                    headers,
                    body,
                } => {
                    let request_id = headers.get("request-id").and_then(|v| v.to_str().ok());
                    let error = api_error(status.as_u16(), &body, request_id);
                    match status.as_u16() {
                        401 if !refreshed => {
                            refreshed = true;
                            log::info!(target: LOG, "{}{} got 401; refreshing the access token once", self.who(), call.label());
                            self.refresh_replacing(&token).await?;
                            attempt -= 1;
                            continue;
                        }
                        401 => {
                            let GraphError::Api { code, message, .. } = error else {
                                return Err(error);
                            };
                            return Err(GraphError::Unauthorized {
                                message: format!("{code}: {message}"),
                            });
                        }
                        code @ (429 | 503 | 504) => {
                            if code == 504 && !call.replay.may_repeat_after_ambiguous_failure() {
                                return Err(error);
                            }
                            let retry_after = retry_after(&headers);
                            let wait =
                                retry_after.unwrap_or_else(|| backoff(attempt, &mut rand::rng()));
                            if code == 429 {
                                // Graph counts whatever we send while throttled: hold the whole
                                // mailbox, not just this request.
                                self.inner.gate.pause_for(wait);
                            }
                            let give_up = if code == 429 || (code == 503 && retry_after.is_some()) {
                                GraphError::Throttled {
                                    retry_after,
                                    waited,
                                }
                            } else {
                                error
                            };
                            (wait, give_up, code == 429)
                        }
                        500 | 502 if call.replay.may_repeat_after_ambiguous_failure() => {
                            (backoff(attempt, &mut rand::rng()), error, false)
                        }
                        _ => return Err(error),
                    }
                }
                Attempt::Failed { error, unsent } => {
                    if !unsent && !call.replay.may_repeat_after_ambiguous_failure() {
                        return Err(error);
                    }
                    (backoff(attempt, &mut rand::rng()), error, false)
                }
            };
            if attempt >= options.max_attempts || waited + wait > options.max_total_wait {
                log::warn!(
                    target: LOG,
                    "{}{} gave up after {attempt} attempt(s) and {:.1}s of waiting: {failure}", self.who(),
                    call.label(),
                    waited.as_secs_f64()
                );
                return Err(failure);
            }
            log::info!(
                target: LOG,
                "{}{} retry {attempt} in {:.2}s after: {failure}", self.who(),
                call.label(),
                wait.as_secs_f64()
            );
            // After a 429 the gate holds this request (and every other one) until the pause ends.
            if !mailbox_paused {
                tokio::time::sleep(wait).await;
            }
            waited += wait;
        }
    }

    /// One attempt: wait for admission, send, read the whole body.
    async fn attempt(&self, call: &Call, token: &Secret) -> Attempt {
        let options = &self.inner.options;
        let _slots = self.inner.gate.enter(call.weight).await;
        let started = Instant::now();
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), call.url.clone())
            .bearer_auth(token.expose())
            .header(ACCEPT, "application/json")
            .header("client-request-id", client_request_id())
            .header("Prefer", r#"IdType="ImmutableId""#)
            .header(
                "Prefer",
                format!(r#"outlook.timezone="{}""#, options.time_zone),
            )
            .header(
                "Prefer",
                format!(r#"outlook.body-content-type="{}""#, options.body_type),
            );
        if call.paged {
            request = request.header("Prefer", format!("odata.maxpagesize={}", options.page_size));
        }
        if let Some(body) = &call.body {
            // Request bodies are small JSON documents: a copy per attempt is cheap.
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                let unsent = error.is_connect();
                log::debug!(target: LOG, "{}{} failed after {} ms", self.who(), call.label(), started.elapsed().as_millis());
                return Attempt::Failed {
                    error: transport_error(&call.label(), error),
                    unsent,
                };
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = match response.bytes().await {
            Ok(body) => body.to_vec(),
            Err(error) => {
                return Attempt::Failed {
                    error: transport_error(&call.label(), error),
                    unsent: false,
                };
            }
        };
        log::debug!(
            target: LOG,
            "{}{} -> {} ({} ms)", self.who(),
            call.label(),
            status.as_u16(),
            started.elapsed().as_millis()
        );
        Attempt::Answered {
            status,
            headers,
            body,
        }
    }

    /// The access token to send, refreshed first when it expires within [`REFRESH_MARGIN`] (and a
    /// refresh is possible at all).
    async fn bearer(&self) -> Result<Secret, GraphError> {
        let current = self.tokens();
        let can_refresh = self.inner.oauth.is_some() && current.refresh_token.is_some();
        let deadline = jiff::Timestamp::now()
            .checked_add(REFRESH_MARGIN)
            .unwrap_or(jiff::Timestamp::MAX);
        if can_refresh && current.expires_at <= deadline {
            return self.refresh_replacing(&current.access_token).await;
        }
        Ok(current.access_token)
    }

    /// Refreshes unless another task already replaced `stale` meanwhile; returns the token to use.
    async fn refresh_replacing(&self, stale: &Secret) -> Result<Secret, GraphError> {
        let _single_flight = self.inner.refreshing.lock().await;
        let current = self.tokens();
        if current.access_token != *stale {
            return Ok(current.access_token);
        }
        let Some(oauth) = &self.inner.oauth else {
            return Err(GraphError::Unauthorized {
                message: "the access token is no longer valid and no OAuth client is configured to refresh it".to_owned(),
            });
        };
        let Some(refresh_token) = &current.refresh_token else {
            return Err(GraphError::Unauthorized {
                message: "the access token is no longer valid and there is no refresh token (was offline_access granted?)".to_owned(),
            });
        };
        let fresh = oauth.refresh(refresh_token.expose()).await?;
        log::info!(target: LOG, "{}access token refreshed; valid until {}", self.who(), fresh.expires_at);
        let token = fresh.access_token.clone();
        *self
            .inner
            .tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = fresh;
        Ok(token)
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, jiff::Timestamp::now()))
}

fn graph_base(graph_url: &str) -> Result<Url, GraphError> {
    let invalid = |detail: String| GraphError::InvalidInput {
        context: "Graph URL".to_owned(),
        detail,
    };
    let mut url = Url::parse(graph_url).map_err(|e| invalid(format!("{graph_url:?}: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") || url.cannot_be_a_base() {
        return Err(invalid(format!("{graph_url:?} is not an http(s) URL")));
    }
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| invalid(format!("{graph_url:?} cannot hold a path")))?
        .pop_if_empty()
        .push(API_VERSION);
    Ok(url)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn base_url_gets_the_version_once() {
        for input in [
            "https://graph.microsoft.com",
            "https://graph.microsoft.com/",
            "http://127.0.0.1:4000",
        ] {
            let url = graph_base(input).unwrap();
            assert!(url.as_str().ends_with("/v1.0"), "{url}");
            assert!(!url.as_str().contains("//v1.0"), "{url}");
        }
        assert!(matches!(
            graph_base("ftp://x"),
            Err(GraphError::InvalidInput { .. })
        ));
        assert!(matches!(
            graph_base("nonsense"),
            Err(GraphError::InvalidInput { .. })
        ));
    }
}
