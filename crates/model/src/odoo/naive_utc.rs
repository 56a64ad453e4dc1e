//! Odoo's naive-UTC datetime strings (`"2024-03-31 08:30:00"`, Python's `str(datetime)`), optional.

use jiff::civil::DateTime;
use serde::{Deserialize, Deserializer, Serializer};
use serde_json::Value;

pub fn serialize<S: Serializer>(value: &Option<DateTime>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(dt) => s.serialize_str(&dt.strftime("%Y-%m-%d %H:%M:%S").to_string()),
        None => s.serialize_none(),
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null | Value::Bool(false) => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        // jiff accepts both the `T` and the space separator, and fractional seconds.
        Value::String(s) => s
            .trim()
            .parse::<DateTime>()
            .map(Some)
            .map_err(serde::de::Error::custom),
        other => Err(serde::de::Error::custom(format!(
            "expected a naive UTC datetime string, got {other}"
        ))),
    }
}
