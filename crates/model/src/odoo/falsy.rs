//! Odoo writes "no value" as `False`, not `None`. These serde helpers read `false` and `null` as `None`, so
//! the addon can hand over `record.read()` dicts unchanged.

use serde::de::{Deserialize, DeserializeOwned, Deserializer, Error};
use serde_json::Value;

/// `false`, `null` or a missing field -> `None`; anything else must deserialize as `T`.
pub fn option<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Value::deserialize(deserializer)? {
        Value::Null | Value::Bool(false) => Ok(None),
        other => T::deserialize(other).map(Some).map_err(D::Error::custom),
    }
}

/// Like [`option`] for strings, and an empty or blank string is `None` too.
pub fn string<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(option::<D, String>(deserializer)?.filter(|s| !s.trim().is_empty()))
}
