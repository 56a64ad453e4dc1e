//! The Odoo side of a run as the addon hands it over, read record by record: one malformed record is
//! reported and held back, the rest of the run goes on.

use std::collections::HashMap;

use outlook_model::odoo::OdooEvent;
use outlook_runner::{ItemFailure, LocalEvent, LocalListing};
use pyo3::PyResult;
use pyo3::exceptions::PyValueError;
use serde_json::{Value, json};

/// The listing, the failures of the records that could not be read, and their ids (to keep them
/// queued for the next run).
pub(crate) struct ReadLocal {
    pub listing: LocalListing,
    pub failures: Vec<ItemFailure>,
    pub held: Vec<i64>,
}

/// Reads `local` (`{"kind": "full", "events": [...]}` or `{"kind": "delta", "changed": [...],
/// "deleted": [...], "deleted_hashes": {"<id>": hash}}`). The shape itself must be right (`ValueError` otherwise); a record that
/// does not read becomes a failure. A full listing with such a record is read as a delta of the
/// others: in a full listing an absent record means "deleted", and an unreadable one is not.
pub(crate) fn read_local(local: Value) -> PyResult<ReadLocal> {
    let bad_shape = |detail: &str| PyValueError::new_err(format!("local: {detail}"));
    let Value::Object(mut object) = local else {
        return Err(bad_shape("expected a dict"));
    };
    let full = match object.get("kind").and_then(Value::as_str) {
        Some("full") => true,
        Some("delta") => false,
        _ => return Err(bad_shape("'kind' must be 'full' or 'delta'")),
    };
    let key = if full { "events" } else { "changed" };
    let items = match object.remove(key) {
        Some(Value::Array(items)) => items,
        None => Vec::new(),
        Some(_) => return Err(bad_shape(&format!("'{key}' must be a list"))),
    };
    let deleted: Vec<i64> = match object.remove("deleted") {
        None | Some(Value::Null) => Vec::new(),
        Some(value) => serde_json::from_value(value)
            .map_err(|e| bad_shape(&format!("'deleted' must be a list of ids: {e}")))?,
    };
    let deleted_hashes: HashMap<i64, String> = match object.remove("deleted_hashes") {
        None | Some(Value::Null) => HashMap::new(),
        Some(value) => serde_json::from_value(value)
            .map_err(|e| bad_shape(&format!("'deleted_hashes' must map ids to hashes: {e}")))?,
    };
    let mut events = Vec::with_capacity(items.len());
    let mut failures = Vec::new();
    let mut held = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match read_item(item) {
            Ok(event) => events.push(event),
            Err((id, reason)) => {
                held.extend(id);
                failures.push(failure(id, index, reason));
            }
        }
    }
    let listing = if full && failures.is_empty() {
        LocalListing::Full { events }
    } else {
        LocalListing::Delta {
            changed: events,
            deleted,
            deleted_hashes,
        }
    };
    Ok(ReadLocal {
        listing,
        failures,
        held,
    })
}

fn read_item(item: Value) -> Result<LocalEvent, (Option<i64>, String)> {
    let values = item.get("values").unwrap_or(&Value::Null);
    let id = values.get("id").and_then(Value::as_i64);
    let record = OdooEvent::from_json(values).map_err(|e| (id, e.to_string()))?;
    let modified_at = match item.get("modified_at") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            serde_json::from_value(value.clone())
                .map_err(|e| (id, format!("modified_at {value}: {e}")))?,
        ),
    };
    let organizer_syncs = match item.get("organizer_syncs") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(other) => return Err((id, format!("organizer_syncs {other}: expected a boolean"))),
    };
    Ok(LocalEvent {
        values: record,
        modified_at,
        organizer_syncs,
    })
}

fn failure(id: Option<i64>, index: usize, reason: String) -> ItemFailure {
    // Built through serde, like every report the addon reads: the runner's own type, its own names.
    let value = json!({
        "side": "local",
        "action": "read",
        "local_id": id.map(|id| id.to_string()),
        "remote_id": null,
        "label": id.map_or_else(|| format!("local item {index}"), |id| format!("odoo:{id}")),
        "reason": reason,
    });
    serde_json::from_value(value).unwrap_or_else(|_| unreachable!("ItemFailure's shape is fixed"))
}
