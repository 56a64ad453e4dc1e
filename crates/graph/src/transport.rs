//! The shared HTTP client: timeouts, no redirects, gzip, an honest User-Agent, and no proxy for
//! loopback hosts (the emulator and local test servers).

use reqwest::{NoProxy, Proxy};

use crate::config::ClientOptions;
use crate::error::GraphError;

/// Hosts that never go through a proxy.
const LOOPBACK: &str = "localhost,127.0.0.1,::1";

/// Builds the `reqwest` client that [`OAuthClient`](crate::OAuthClient) and
/// [`GraphClient`](crate::GraphClient) share.
///
/// Redirects are not followed: a token or Graph request that redirects is an error, and following
/// it could hand a bearer token to another host. Proxies come from `HTTPS_PROXY`/`HTTP_PROXY`/
/// `ALL_PROXY` (and `NO_PROXY`) as usual, except that loopback hosts are always reached directly.
pub fn http_client(options: &ClientOptions) -> Result<reqwest::Client, GraphError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!(
            "outlook-sync/",
            env!("CARGO_PKG_VERSION"),
            " (Odoo-Outlook calendar sync)"
        ))
        .connect_timeout(options.connect_timeout)
        .timeout(options.request_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .gzip(true)
        // Replace reqwest's automatic system proxy with the same settings plus a loopback exclusion.
        .no_proxy();
    let no_proxy = std::env::var("NO_PROXY")
        .or_else(|_| std::env::var("no_proxy"))
        .map(|list| format!("{list},{LOOPBACK}"))
        .unwrap_or_else(|_| LOOPBACK.to_owned());
    let schemes: [(&str, &[&str]); 2] = [
        (
            "https",
            &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"],
        ),
        (
            "http",
            &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"],
        ),
    ];
    for (scheme, variables) in schemes {
        let Some((variable, value)) = variables.iter().find_map(|v| {
            std::env::var(v)
                .ok()
                .filter(|s| !s.is_empty())
                .map(|s| (*v, s))
        }) else {
            continue;
        };
        let proxy = if scheme == "https" {
            Proxy::https(&value)
        } else {
            Proxy::http(&value)
        }
        // The value may hold proxy credentials: name the variable only.
        .map_err(|_| GraphError::InvalidInput {
            context: format!("proxy setting {variable}"),
            detail: "not a valid proxy URL".to_owned(),
        })?;
        builder = builder.proxy(proxy.no_proxy(NoProxy::from_string(&no_proxy)));
    }
    builder.build().map_err(|e| GraphError::Transport {
        message: format!("cannot build the HTTP client: {}", e.without_url()),
        timeout: false,
    })
}

/// A transport error as [`GraphError::Transport`], without the URL (it may carry a delta token).
pub(crate) fn transport_error(what: &str, error: reqwest::Error) -> GraphError {
    let timeout = error.is_timeout();
    let kind = if error.is_connect() {
        "connection failed"
    } else if timeout {
        "timed out"
    } else if error.is_body() || error.is_decode() {
        "reading the response failed"
    } else {
        "request failed"
    };
    // reqwest's top-level Display is generic; the source chain names the actual cause.
    let mut cause = String::new();
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    let message = if cause.is_empty() {
        format!("{what}: {kind}")
    } else {
        format!("{what}: {kind} ({cause})")
    };
    GraphError::Transport { message, timeout }
}

/// A uuid-v4-shaped `client-request-id`, so a request can be found in Microsoft's logs.
pub(crate) fn client_request_id() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_request_ids_look_like_uuid_v4() {
        let id = client_request_id();
        let groups: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert_eq!(id.as_bytes()[14], b'4');
        assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert_ne!(id, client_request_id());
    }

    #[test]
    fn default_client_builds() {
        assert!(http_client(&ClientOptions::default()).is_ok());
    }
}
