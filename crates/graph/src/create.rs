//! Idempotent creates: after `ErrorDuplicateTransactionId` (a retry whose first attempt did reach
//! Graph), find the event that first attempt created instead of failing or duplicating it.

use serde_json::Value;

use crate::client::GraphClient;
use crate::error::GraphError;

const LOG: &str = "outlook_sync::graph::create";

impl GraphClient {
    /// After `ErrorDuplicateTransactionId`: finds the event created with `transaction_id` by
    /// looking at the calendar around the event's own start and end. For a series, the view holds
    /// occurrences, and their master carries the transaction id.
    pub(crate) async fn find_by_transaction_id(
        &self,
        event: &Value,
        transaction_id: &str,
    ) -> Result<Option<Value>, GraphError> {
        let (start, end) = search_window(event)?;
        let mut url = self.url(&["me", "calendarView"])?;
        url.query_pairs_mut()
            .append_pair("startDateTime", &start.to_string())
            .append_pair("endDateTime", &end.to_string());
        let context = format!("calendarView looking for transactionId {transaction_id}");
        let mut masters_seen = std::collections::BTreeSet::new();
        for item in self.list_all(url, &context).await? {
            let master_id = item
                .get("seriesMasterId")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty());
            let Some(master_id) = master_id else {
                if has_transaction_id(&item, transaction_id) {
                    return Ok(Some(item));
                }
                continue;
            };
            // An occurrence (whether or not it repeats the master's transactionId) stands for
            // its series: what was created is the master.
            if masters_seen.insert(master_id.to_owned()) {
                let master = self.get_event(master_id).await?;
                if has_transaction_id(&master, transaction_id) {
                    return Ok(Some(master));
                }
            }
        }
        log::warn!(target: LOG, "{}no event carries transactionId {transaction_id} between {start} and {end}", self.who());
        Ok(None)
    }
}

pub(crate) fn is_duplicate_transaction(error: &GraphError) -> bool {
    matches!(error, GraphError::Api { status: 400 | 409, code, .. }
        if code.eq_ignore_ascii_case("ErrorDuplicateTransactionId"))
}

fn has_transaction_id(event: &Value, transaction_id: &str) -> bool {
    event.get("transactionId").and_then(Value::as_str) == Some(transaction_id)
}

/// UTC offsets reach ±14 h: reading the event's wall-clock times as UTC and widening by this much
/// covers every zone without having to resolve Windows zone names here.
const ZONE_SLACK: jiff::SignedDuration = jiff::SignedDuration::from_hours(14);

/// A UTC window surely containing the event described by `event.start` / `event.end`.
fn search_window(event: &Value) -> Result<(jiff::Timestamp, jiff::Timestamp), GraphError> {
    let read = |field: &str| -> Result<jiff::Timestamp, GraphError> {
        let text = event
            .get(field)
            .and_then(|v| v.get("dateTime"))
            .and_then(Value::as_str)
            .ok_or_else(|| GraphError::InvalidInput {
                context: "event to create".to_owned(),
                detail: format!("`{field}.dateTime` is missing"),
            })?;
        let civil: jiff::civil::DateTime = text.parse().map_err(|e| GraphError::InvalidInput {
            context: "event to create".to_owned(),
            detail: format!("`{field}.dateTime` {text:?} is not a date-time ({e})"),
        })?;
        civil
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| GraphError::InvalidInput {
                context: "event to create".to_owned(),
                detail: format!("`{field}.dateTime` {text:?} is out of range ({e})"),
            })
    };
    let start = read("start")?;
    let end = read("end")?.max(start);
    let widen = |t: jiff::Timestamp, by: jiff::SignedDuration| t.checked_add(by).unwrap_or(t);
    Ok((widen(start, -ZONE_SLACK), widen(end, ZONE_SLACK)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn search_window_covers_every_offset() {
        let event = json!({
            "start": {"dateTime": "2017-04-15T12:00:00", "timeZone": "Pacific Standard Time"},
            "end": {"dateTime": "2017-04-15T14:00:00.0000000", "timeZone": "Pacific Standard Time"}
        });
        let (start, end) = search_window(&event).unwrap();
        assert_eq!(start.to_string(), "2017-04-14T22:00:00Z");
        assert_eq!(end.to_string(), "2017-04-16T04:00:00Z");
        let err = search_window(&json!({"start": {"dateTime": "x"}})).unwrap_err();
        assert!(err.to_string().contains("start.dateTime"), "{err}");
    }

    #[test]
    fn duplicate_transaction_detection_uses_the_code() {
        let dup = GraphError::Api {
            status: 400,
            code: "ErrorDuplicateTransactionId".into(),
            message: "m".into(),
            request_id: None,
        };
        assert!(is_duplicate_transaction(&dup));
        let other = GraphError::Api {
            status: 400,
            code: "ErrorInvalidRequest".into(),
            message: "m".into(),
            request_id: None,
        };
        assert!(!is_duplicate_transaction(&other));
    }
}
