//! Error bodies in the two shapes the emulator speaks: Graph's OData error and the identity platform's
//! OAuth error.

use jiff::Timestamp;
use serde_json::{Value, json};

/// A Graph error: HTTP status, Graph `code`, human message, and extra response headers (`Retry-After`).
#[derive(Debug, Clone, PartialEq)]
pub struct GraphError {
    /// HTTP status code.
    pub status: u16,
    /// Graph error code, e.g. `ErrorItemNotFound`.
    pub code: String,
    /// Human-readable message (clients must never branch on it).
    pub message: String,
    /// Extra headers for the response, e.g. `Retry-After`.
    pub headers: Vec<(String, String)>,
}

impl GraphError {
    /// An error with the given status, code and message.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        GraphError {
            status,
            code: code.to_owned(),
            message: message.into(),
            headers: Vec::new(),
        }
    }

    /// `400 ErrorInvalidRequest`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(400, "ErrorInvalidRequest", message)
    }

    /// `400 RequestBodyRead`: what Graph answers for a body it cannot deserialise (bad enum, wrong type).
    pub fn body_read(message: impl Into<String>) -> Self {
        Self::new(400, "RequestBodyRead", message)
    }

    /// `404 ErrorItemNotFound`.
    pub fn not_found() -> Self {
        Self::new(
            404,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        )
    }

    /// `400 ErrorInvalidIdMalformed`.
    pub fn malformed_id() -> Self {
        Self::new(400, "ErrorInvalidIdMalformed", "Id is malformed.")
    }

    /// `401 InvalidAuthenticationToken`.
    pub fn unauthenticated(message: &str) -> Self {
        Self::new(401, "InvalidAuthenticationToken", message)
    }

    /// A throttling answer (429, or 503/504 from a fault) with a `Retry-After` header.
    pub fn throttled(status: u16, retry_after: &str) -> Self {
        let (code, message) = match status {
            429 => ("TooManyRequests", "Please retry again later."),
            503 => (
                "ServiceUnavailable",
                "The service is temporarily unavailable. Please retry later.",
            ),
            _ => (
                "UnknownError",
                "The upstream service did not answer in time.",
            ),
        };
        let mut error = Self::new(status, code, message);
        error
            .headers
            .push(("Retry-After".to_owned(), retry_after.to_owned()));
        error
    }

    /// The JSON body, with `innerError` carrying the request ids and the date like Graph's.
    pub fn body(&self, request_id: &str, client_request_id: Option<&str>) -> Value {
        let mut inner = json!({
            "date": Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S").to_string(),
            "request-id": request_id,
            "client-request-id": client_request_id.unwrap_or(request_id),
        });
        if self.status == 429 {
            inner["code"] = json!("429");
            inner["status"] = json!("429");
            inner["message"] = json!("Please retry after");
        }
        json!({"error": {"code": self.code, "message": self.message, "innerError": inner}})
    }
}

/// An OAuth error of the identity platform's token endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityError {
    /// HTTP status (400, or 401 for `invalid_client`).
    pub status: u16,
    /// OAuth `error`, e.g. `invalid_grant`.
    pub error: &'static str,
    /// The AADSTS number.
    pub aadsts: u32,
    /// Description without the AADSTS prefix and trailer.
    pub description: String,
}

impl IdentityError {
    /// An error with status 400, or 401 for `invalid_client`.
    pub fn new(error: &'static str, aadsts: u32, description: impl Into<String>) -> Self {
        let status = if error == "invalid_client" { 401 } else { 400 };
        IdentityError {
            status,
            error,
            aadsts,
            description: description.into(),
        }
    }

    /// The body in the identity platform's shape (`error_description` carries the AADSTS code and trailer).
    pub fn body(&self) -> Value {
        let now = Timestamp::now();
        let timestamp = now.strftime("%Y-%m-%d %H:%M:%SZ").to_string();
        let trace_id = crate::ids::guid();
        let correlation_id = crate::ids::guid();
        json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
                self.aadsts, self.description
            ),
            "error_codes": [self.aadsts],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.aadsts),
        })
    }
}

impl GraphError {
    /// The same error with another Graph code.
    pub fn with_code(mut self, code: &str) -> Self {
        self.code = code.to_owned();
        self
    }
}
