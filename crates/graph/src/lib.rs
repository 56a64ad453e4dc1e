//! Microsoft Graph calendar client for outlook-sync.
//!
//! - [`OAuthClient`]: authorization-code flow with PKCE, code redemption and refresh-token rotation
//!   against the Microsoft identity platform.
//! - [`GraphClient`]: one mailbox. Every request carries the bearer token (refreshed ahead of expiry
//!   and once on a 401), `Prefer: IdType="ImmutableId"`, the configured time zone and body type, and
//!   a `client-request-id`. At most `max_in_flight` requests execute at once, a 429 pauses the whole
//!   mailbox for its `Retry-After`, and transient failures are retried within a bounded budget.
//! - Calendar operations: calendarView delta paging (stopped when Graph loops on the same page),
//!   events CRUD and responses, idempotent creates through `transactionId`, `$batch` with per-item
//!   retries, and change-notification subscriptions.
//!
//! Logging goes through the `log` crate under `outlook_sync::graph::*`; tokens, codes, secrets and
//! the token endpoint's parameters never appear in logs, errors or `Debug` output.

mod batch;
mod client;
mod config;
mod create;
mod delta;
mod error;
mod events;
mod gate;
mod oauth;
mod paging;
mod retry;
mod secret;
mod subscriptions;
mod transport;

pub use batch::{BatchObserver, BatchRequest, BatchResponse, MAX_BATCH_SIZE};
pub use client::GraphClient;
pub use config::{AppCredentials, ClientOptions, DEFAULT_SCOPES, Endpoints};
pub use delta::{DeltaItem, DeltaOutcome, DeltaStart};
pub use error::GraphError;
pub use events::ResponseKind;
pub use http::Method;
pub use oauth::{AuthorizationRequest, OAuthClient, TokenSet};
pub use secret::Secret;
pub use subscriptions::MAX_SUBSCRIPTION_MINUTES;
pub use transport::http_client;
