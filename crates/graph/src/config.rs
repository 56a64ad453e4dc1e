//! Where to talk to (endpoints), who we are (app credentials) and how politely (client options).

use std::time::Duration;

use crate::secret::Secret;

/// The scopes a delegated calendar sync needs: a refresh token (`offline_access`), the user's identity
/// (`openid profile email User.Read`) and read/write access to their calendars.
pub const DEFAULT_SCOPES: &[&str] = &[
    "offline_access",
    "openid",
    "profile",
    "email",
    "User.Read",
    "Calendars.ReadWrite",
];

/// Base URLs of the identity platform and of Graph. Configurable for single-tenant apps, national
/// clouds and the emulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Identity platform origin, e.g. `https://login.microsoftonline.com`.
    pub login_url: String,
    /// Tenant segment: `common`, `organizations`, `consumers`, a tenant id or a domain.
    pub tenant: String,
    /// Graph origin without the version, e.g. `https://graph.microsoft.com`.
    pub graph_url: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            login_url: "https://login.microsoftonline.com".to_owned(),
            tenant: "common".to_owned(),
            graph_url: "https://graph.microsoft.com".to_owned(),
        }
    }
}

/// The app registration used for the OAuth 2.0 authorization-code flow.
#[derive(Debug, Clone)]
pub struct AppCredentials {
    /// Application (client) id.
    pub client_id: String,
    /// Client secret of a confidential (web) app; `None` for a public client.
    pub client_secret: Option<Secret>,
    /// Redirect URI registered for the app; it must match exactly.
    pub redirect_uri: String,
}

/// Limits and preferences of a [`GraphClient`](crate::GraphClient).
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Requests executing at once per mailbox (Outlook allows 4).
    pub max_in_flight: usize,
    /// Whole-request timeout, body included.
    pub request_timeout: Duration,
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Attempts per request, the first one included.
    pub max_attempts: u32,
    /// Time a request may spend waiting between attempts before giving up.
    pub max_total_wait: Duration,
    /// `Prefer: odata.maxpagesize` for delta and list calls. 200 is the largest page Microsoft says
    /// Outlook-item deltas return (a larger value is capped), so a delta round costs the fewest
    /// sequential requests.
    pub page_size: u32,
    /// `Prefer: outlook.timezone` for every call (a Windows or IANA name Graph accepts).
    pub time_zone: String,
    /// `Prefer: outlook.body-content-type`: `html` or `text`.
    pub body_type: String,
    /// Names the mailbox in this client's log lines (e.g. its address); empty for none.
    pub log_label: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            max_in_flight: 4,
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_attempts: 8,
            max_total_wait: Duration::from_secs(300),
            page_size: 200,
            time_zone: "UTC".to_owned(),
            body_type: "html".to_owned(),
            log_label: String::new(),
        }
    }
}
