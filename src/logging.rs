//! Rust `log` records go to Python's `logging` (through pyo3-log), after one last redaction pass.
//!
//! The crates below never log secrets on purpose; this layer is the safety net: whatever slips into a message
//! (a bearer token in an echoed header, a `code=` in a URL, a token in an identity-platform error) is masked
//! before Python sees it. Logger names follow the Rust module path (`outlook_sync::graph` becomes
//! `outlook_sync.graph`), so Odoo's `--log-handler=outlook_sync:DEBUG` works.

use std::sync::OnceLock;

use log::{Log, Metadata, Record};
use pyo3::prelude::*;

/// Keys whose values are secrets wherever they appear as `key=value`, `key: value` or `"key": "value"`.
const SECRET_KEYS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "code",
    "code_verifier",
    "client_assertion",
    "password",
    "$skiptoken",
    "$deltatoken",
];

const MASK: &str = "***";

/// Masks bearer tokens and the values of secret keys in `text`.
pub fn redact(text: &str) -> String {
    let mut out = redact_bearer(text);
    for key in SECRET_KEYS {
        out = redact_key(&out, key);
    }
    out
}

fn redact_bearer(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = find_ascii_case_insensitive(rest, "bearer ") {
        let (head, tail) = rest.split_at(pos + "bearer ".len());
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ',')
            .unwrap_or(tail.len());
        if end > 0 {
            out.push_str(MASK);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn redact_key(text: &str, key: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = find_ascii_case_insensitive(rest, key) {
        let before_ok = rest[..pos]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        let after = &rest[pos + key.len()..];
        // Accept `key=`, `key: `, `"key": "` and `key":"`.
        let trimmed = after.trim_start_matches(['"', '\'']);
        let sep_len = trimmed
            .find(|c: char| c != ' ' && c != ':' && c != '=')
            .unwrap_or(trimmed.len());
        let sep = &trimmed[..sep_len];
        let value_start = trimmed[sep_len..].trim_start_matches(['"', '\'']);
        if !before_ok || sep.is_empty() || !(sep.contains('=') || sep.contains(':')) {
            out.push_str(&rest[..pos + key.len()]);
            rest = after;
            continue;
        }
        let value_offset = after.len() - value_start.len();
        let end = value_start
            .find(|c: char| c.is_whitespace() || matches!(c, '&' | '"' | '\'' | ',' | '}' | ';'))
            .unwrap_or(value_start.len());
        out.push_str(&rest[..pos + key.len()]);
        out.push_str(&after[..value_offset]);
        if end > 0 {
            out.push_str(MASK);
        }
        rest = &value_start[end..];
    }
    out.push_str(rest);
    out
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    let h = haystack.as_bytes();
    let n = needle.as_bytes();
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    (0..=h.len() - n.len())
        .find(|&i| haystack.is_char_boundary(i) && h[i..i + n.len()].eq_ignore_ascii_case(n))
}

struct RedactingLogger {
    inner: pyo3_log::Logger,
}

impl Log for RedactingLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if !self.inner.enabled(record.metadata()) {
            return;
        }
        let message = redact(&record.args().to_string());
        self.inner.log(
            &Record::builder()
                .metadata(record.metadata().clone())
                .args(format_args!("{message}"))
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Routes Rust log records to Python's `logging`; idempotent.
pub fn install(py: Python<'_>) -> PyResult<()> {
    if INSTALLED.get().is_some() {
        return Ok(());
    }
    let inner = pyo3_log::Logger::new(py, pyo3_log::Caching::LoggersAndLevels)?
        .filter(log::LevelFilter::Debug);
    // Another library in the process may own the global logger already; then Rust logs go there.
    if log::set_boxed_logger(Box::new(RedactingLogger { inner })).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
    let _ = INSTALLED.set(true);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn masks_bearer_tokens_and_secret_keys() {
        let text = "Authorization: Bearer eyJ0eXAi.abc.def sent; body code=M.C105_BAY.2.abc&state=xyz \
                    {\"refresh_token\": \"AwABAAAAvPM1\", \"client_secret\":\"s3cr3t\"} access_token=tok123";
        let out = redact(text);
        for secret in ["eyJ0eXAi", "M.C105_BAY", "AwABAAAAvPM1", "s3cr3t", "tok123"] {
            assert!(!out.contains(secret), "{secret} leaked in {out}");
        }
        assert!(out.contains("state=xyz"), "{out}");
    }

    #[test]
    fn leaves_words_that_merely_contain_a_key_alone() {
        let text = "error_codes: [700082]; postcode=1234; barcode: 5";
        assert_eq!(redact(text), text);
    }
}
