//! The crate's error type, and parsing of the error bodies Graph and the identity platform send.
//!
//! Messages say what to do next and never carry a credential: identity-platform descriptions are
//! cut before their `Trace ID` trailer, and response snippets are short and single-line.

use std::time::Duration;

use serde_json::Value;

/// Everything that can go wrong talking to Microsoft.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// Consent expired or was revoked (`invalid_grant`): the user must reconnect.
    #[error(
        "Outlook access was revoked or has expired; reconnect the Outlook account ({description})"
    )]
    InvalidGrant {
        /// The identity platform's description, sanitized.
        description: String,
    },
    /// Wrong or expired client secret, or an unknown app (`invalid_client`, `unauthorized_client`).
    #[error(
        "Microsoft rejected the application's credentials (client id or client secret wrong or expired); \
         an administrator must fix the Outlook settings ({description})"
    )]
    InvalidClient {
        /// The identity platform's description, sanitized.
        description: String,
    },
    /// Multi-factor authentication, consent or conditional access needs the user in a browser.
    #[error(
        "Microsoft requires the user to sign in again; reconnect the Outlook account ({description})"
    )]
    InteractionRequired {
        /// The identity platform's description, sanitized.
        description: String,
    },
    /// Any other identity-platform error.
    #[error("Microsoft sign-in failed with {error}: {description}")]
    OAuth {
        /// The OAuth `error` code, e.g. `invalid_scope`.
        error: String,
        /// The identity platform's description, sanitized.
        description: String,
    },
    /// Graph answered 401 even after one token refresh.
    #[error(
        "Microsoft Graph rejected the access token even after a refresh; reconnect the Outlook account ({message})"
    )]
    Unauthorized {
        /// What Graph said, or why no refresh was possible.
        message: String,
    },
    /// Graph kept throttling (429, or 503 with `Retry-After`) until the retry budget was spent.
    #[error(
        "Microsoft Graph is throttling this mailbox (last Retry-After: {}); gave up after waiting {:.1}s, \
         the next sync run will continue",
        retry_after.map_or_else(|| "none".to_owned(), |d| format!("{:.1}s", d.as_secs_f64())),
        waited.as_secs_f64()
    )]
    Throttled {
        /// The last `Retry-After` Graph sent, if any.
        retry_after: Option<Duration>,
        /// Time spent waiting between attempts.
        waited: Duration,
    },
    /// Graph's error JSON (or a non-JSON error body, then `code` is empty and `message` a snippet).
    #[error(
        "Microsoft Graph answered {status} {code}: {message}{}",
        request_id.as_deref().map(|id| format!(" (request-id {id})")).unwrap_or_default()
    )]
    Api {
        /// HTTP status.
        status: u16,
        /// The innermost specific error code (e.g. `ErrorItemNotFound`).
        code: String,
        /// Graph's message (for people; never branch on it).
        message: String,
        /// `request-id` for Microsoft support.
        request_id: Option<String>,
    },
    /// The network failed: connection refused or reset, TLS, timeout, proxy.
    #[error(
        "could not reach Microsoft{}: {message}; check the network and proxy settings, the next sync run will retry",
        if *timeout { " (timed out)" } else { "" }
    )]
    Transport {
        /// What failed, without URLs or credentials.
        message: String,
        /// Whether a timeout (connect or whole request) fired.
        timeout: bool,
    },
    /// A response that does not have the shape Graph documents.
    #[error("unexpected response from Microsoft ({context}): {detail}")]
    Payload {
        /// Which response (and which page or item) it was.
        context: String,
        /// Which field is missing or wrong.
        detail: String,
    },
    /// The caller's input or configuration cannot be sent (bad URL, bad batch dependency).
    #[error("invalid {context}: {detail}")]
    InvalidInput {
        /// Which setting or argument.
        context: String,
        /// What is wrong with it.
        detail: String,
    },
}

impl GraphError {
    /// `true` when the account needs the user or an administrator before any retry can help.
    pub fn needs_reconnect(&self) -> bool {
        matches!(
            self,
            Self::InvalidGrant { .. }
                | Self::InvalidClient { .. }
                | Self::InteractionRequired { .. }
                | Self::Unauthorized { .. }
        )
    }

    /// The Graph error code, when this is an API error.
    pub fn api_code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status, when this is an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Longest part of a foreign body we quote in an error.
const SNIPPET_CHARS: usize = 200;

/// A short single-line excerpt of a body for error messages.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(SNIPPET_CHARS)
        .collect();
    if text.chars().count() > SNIPPET_CHARS {
        out.push('…');
    }
    out.trim().to_owned()
}

/// Cuts an identity-platform `error_description` before its `Trace ID` trailer, flattens line breaks
/// and bounds the length, so nothing request-specific or unexpected gets into logs.
pub(crate) fn sanitize_description(description: &str) -> String {
    let cut = description
        .find("Trace ID")
        .map_or(description, |at| &description[..at]);
    let flat: String = cut
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let words: Vec<&str> = flat.split_whitespace().collect();
    let mut joined = words.join(" ");
    if joined.chars().count() > 300 {
        joined = joined.chars().take(300).collect::<String>() + "…";
    }
    joined.trim_end_matches(['.', ' ']).to_owned()
}

/// Maps an identity-platform `error` code to the variant that tells the caller what to do.
pub(crate) fn oauth_error(error: &str, description: &str) -> GraphError {
    let description = sanitize_description(description);
    match error {
        "invalid_grant" => GraphError::InvalidGrant { description },
        "invalid_client" | "unauthorized_client" => GraphError::InvalidClient { description },
        "interaction_required" | "consent_required" | "login_required" => {
            GraphError::InteractionRequired { description }
        }
        other => GraphError::OAuth {
            error: other.to_owned(),
            description,
        },
    }
}

/// Builds an [`GraphError::Api`] from an error response, walking nested `innerError` objects for the
/// most specific code and for the `request-id`. `header_request_id` (the `request-id` response
/// header) wins over the body's.
pub(crate) fn api_error(status: u16, body: &[u8], header_request_id: Option<&str>) -> GraphError {
    match serde_json::from_slice::<Value>(body) {
        Ok(json) => api_error_from_json(status, &json, header_request_id),
        Err(_) => GraphError::Api {
            status,
            code: String::new(),
            message: if body.is_empty() {
                "empty response body".to_owned()
            } else {
                format!("non-JSON body: {}", snippet(body))
            },
            request_id: header_request_id.map(str::to_owned),
        },
    }
}

/// [`api_error`] for a body that is already JSON (batch items).
pub(crate) fn api_error_from_json(
    status: u16,
    json: &Value,
    header_request_id: Option<&str>,
) -> GraphError {
    let Some(error) = json.get("error").filter(|e| e.is_object()) else {
        return GraphError::Api {
            status,
            code: String::new(),
            message: format!(
                "no `error` object in body: {}",
                snippet(json.to_string().as_bytes())
            ),
            request_id: header_request_id.map(str::to_owned),
        };
    };
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut code = text(error, "code").unwrap_or_default();
    let message = text(error, "message").unwrap_or_default();
    let mut request_id = header_request_id.map(str::to_owned);
    let mut level = inner(error);
    // Bounded walk: a hostile or buggy body must not make us loop.
    for _ in 0..16 {
        let Some(current) = level else { break };
        if request_id.is_none() {
            request_id = text(current, "request-id");
        }
        // Inner codes refine the outer one, but throttling puts the bare status ("429") there.
        if let Some(inner_code) = text(current, "code")
            && !inner_code.is_empty()
            && !inner_code.bytes().all(|b| b.is_ascii_digit())
        {
            code = inner_code;
        }
        level = inner(current);
    }
    GraphError::Api {
        status,
        code,
        message,
        request_id,
    }
}

fn inner(value: &Value) -> Option<&Value> {
    value
        .get("innerError")
        .or_else(|| value.get("innererror"))
        .filter(|v| v.is_object())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn item_not_found_fixture_keeps_code_and_request_id() {
        // graph_api.md §11.
        let body = br#"{ "error": { "code": "ErrorItemNotFound", "message": "The specified object was not found in the store.",
             "innerError": { "date": "2024-05-01T10:00:00", "request-id": "5a07348e-1150-42cc-a2a4-5a30064ccb65",
                             "client-request-id": "3d6261a4-3882-61c8-39d1-cd4878fdb503" } } }"#;
        let err = api_error(404, body, None);
        assert_eq!(
            err,
            GraphError::Api {
                status: 404,
                code: "ErrorItemNotFound".into(),
                message: "The specified object was not found in the store.".into(),
                request_id: Some("5a07348e-1150-42cc-a2a4-5a30064ccb65".into()),
            }
        );
        assert!(err.to_string().contains("request-id 5a07348e"));
    }

    #[test]
    fn throttling_fixture_keeps_outer_code_over_numeric_inner_code() {
        // graph_api.md §7.
        let body = br#"{ "error": { "code": "TooManyRequests", "message": "Please retry again later.",
             "innerError": { "code": "429", "date": "2020-08-18T12:51:51", "message": "Please retry after",
                             "request-id": "94fb3b52-452a-4535-a601-69e0a90e3aa2", "status": "429" } } }"#;
        let err = api_error(429, body, Some("from-header"));
        assert_eq!(err.api_code(), Some("TooManyRequests"));
        let GraphError::Api { request_id, .. } = err else {
            panic!()
        };
        assert_eq!(request_id.as_deref(), Some("from-header"));
    }

    #[test]
    fn nested_inner_errors_refine_the_code() {
        let body = br#"{"error":{"code":"invalidRequest","message":"m",
            "innerError":{"code":"outer","innerError":{"code":"SyncStateNotFound","request-id":"r1"}}}}"#;
        let err = api_error(410, body, None);
        assert_eq!(err.api_code(), Some("SyncStateNotFound"));
        let GraphError::Api { request_id, .. } = err else {
            panic!()
        };
        assert_eq!(request_id.as_deref(), Some("r1"));
    }

    #[test]
    fn lowercase_innererror_and_missing_fields_are_tolerated() {
        let err = api_error(
            400,
            br#"{"error":{"innererror":{"code":"ErrorInvalidIdMalformed"}}}"#,
            None,
        );
        assert_eq!(err.api_code(), Some("ErrorInvalidIdMalformed"));
        let err = api_error(400, br#"{"error":"just a string"}"#, None);
        assert_eq!(err.api_code(), Some(""));
        assert!(err.to_string().contains("no `error` object"));
    }

    #[test]
    fn non_json_bodies_give_status_and_snippet() {
        let html = format!(
            "<html><body>{}</body></html>\r\n",
            "Bad gateway ".repeat(40)
        );
        let err = api_error(502, html.as_bytes(), None);
        let GraphError::Api {
            status,
            code,
            message,
            ..
        } = &err
        else {
            panic!()
        };
        assert_eq!((*status, code.as_str()), (502, ""));
        assert!(message.starts_with("non-JSON body: <html><body>Bad gateway"));
        assert!(message.chars().count() < 240 && message.ends_with('…'));
        assert!(!message.contains('\n'));
        assert!(
            api_error(500, b"", None)
                .to_string()
                .contains("empty response body")
        );
    }

    #[test]
    fn identity_platform_fixture_maps_and_is_sanitized() {
        // graph_api.md §1.2: the description ends with Trace ID, Correlation ID and Timestamp lines.
        let description = "AADSTS700082: The refresh token has expired due to inactivity. ...\r\nTrace ID: 0000aaaa\r\nCorrelation ID: aaaa0000\r\nTimestamp: 2024-01-09 02:02:12Z";
        let err = oauth_error("invalid_grant", description);
        assert_eq!(
            err,
            GraphError::InvalidGrant {
                description: "AADSTS700082: The refresh token has expired due to inactivity".into()
            }
        );
        assert!(err.to_string().contains("reconnect the Outlook account"));
        assert!(err.needs_reconnect());
        assert!(matches!(
            oauth_error("invalid_client", "AADSTS7000222: expired"),
            GraphError::InvalidClient { .. }
        ));
        assert!(matches!(
            oauth_error("interaction_required", "AADSTS50076"),
            GraphError::InteractionRequired { .. }
        ));
        assert_eq!(
            oauth_error("invalid_scope", "AADSTS70011: bad scope"),
            GraphError::OAuth {
                error: "invalid_scope".into(),
                description: "AADSTS70011: bad scope".into()
            }
        );
    }

    #[test]
    fn throttled_message_names_the_wait() {
        let err = GraphError::Throttled {
            retry_after: Some(Duration::from_millis(2128)),
            waited: Duration::from_secs(300),
        };
        let text = err.to_string();
        assert!(text.contains("2.1s") && text.contains("300.0s"), "{text}");
    }
}
