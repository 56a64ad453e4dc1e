//! Reading the Odoo side the addon handed over, and turning the engine's local operations into
//! writes for the addon.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use outlook_engine::{Listing, LocalItem, Side};
use outlook_model::odoo::OdooEvent;
use outlook_model::{Event, EventTime, RangeEnd};

use crate::identity::{awaited_key, content_hash, match_key};
use crate::output::{ItemFailure, Report};
use crate::state::{FirstSync, Link, LocalEvent, LocalListing, RunOptions};

/// The local side as this run sees it.
pub(crate) struct LocalView {
    /// What the engine compares.
    pub(crate) listing: Listing<LocalItem>,
    /// Every readable event, by engine id.
    pub(crate) events: HashMap<String, (OdooEvent, Event)>,
    /// Records that could not be read: listed again next run.
    pub(crate) held: Vec<i64>,
    /// Events whose organizer's mailbox syncs them too ([`LocalEvent::organizer_syncs`]).
    pub(crate) organizer_syncs: HashSet<String>,
}

/// Reads the addon's events. `excluded` ids (kept out by the first-sync policy) are left out.
pub(crate) fn read_local(
    listing: &LocalListing,
    links: &HashMap<&str, &Link>,
    excluded: &HashSet<String>,
    options: &RunOptions,
    report: &mut Report,
) -> LocalView {
    let no_hashes = HashMap::new();
    let (records, deleted, deleted_hashes, full) = match listing {
        LocalListing::Full { events } => (events.as_slice(), &[][..], &no_hashes, true),
        LocalListing::Delta {
            changed,
            deleted,
            deleted_hashes,
        } => (
            changed.as_slice(),
            deleted.as_slice(),
            deleted_hashes,
            false,
        ),
    };
    let mut items = Vec::new();
    let mut events = HashMap::new();
    let mut held = Vec::new();
    let mut organizer_syncs = HashSet::new();
    for record in records {
        let Some(id) = record.values.id else {
            report.failures.push(ItemFailure {
                side: Side::Local,
                action: "read".to_owned(),
                local_id: None,
                remote_id: None,
                label: Some(record.values.label()),
                reason: "the Odoo event has no id".to_owned(),
            });
            continue;
        };
        let key = id.to_string();
        if excluded.contains(&key) && !links.contains_key(key.as_str()) {
            continue;
        }
        match record.values.to_event() {
            Ok(event) => {
                if record.organizer_syncs {
                    organizer_syncs.insert(key.clone());
                }
                items.push(local_item(&key, &event, record, options));
                events.insert(key, (record.values.clone(), event));
            }
            Err(error) => {
                report.failures.push(ItemFailure {
                    side: Side::Local,
                    action: "read".to_owned(),
                    local_id: Some(key.clone()),
                    remote_id: links.get(key.as_str()).map(|l| l.status.remote_id.clone()),
                    label: Some(record.values.label()),
                    reason: error.to_string(),
                });
                held.push(id);
                // In a full listing an absent linked id is a deletion; an unreadable record is not.
                if full && let Some(link) = links.get(key.as_str()) {
                    items.push(LocalItem {
                        id: key,
                        hash: link.status.local_hash.clone(),
                        ical_uid: link.status.ical_uid.clone(),
                        match_key: None,
                        awaited_key: None,
                        modified_at: link.status.local_mtime,
                    });
                }
            }
        }
    }
    let listing = if full {
        Listing::full(items)
    } else {
        Listing::delta_with_hashes(
            items,
            deleted.iter().map(i64::to_string).collect(),
            deleted_hashes
                .iter()
                .map(|(id, hash)| (id.to_string(), hash.clone()))
                .collect(),
        )
    };
    LocalView {
        listing,
        events,
        held,
        organizer_syncs,
    }
}

fn local_item(id: &str, event: &Event, record: &LocalEvent, options: &RunOptions) -> LocalItem {
    LocalItem {
        id: id.to_owned(),
        hash: content_hash(event),
        ical_uid: event.ical_uid.clone(),
        match_key: Some(match_key(event, &options.mailbox)),
        awaited_key: awaited_key(event),
        modified_at: record.modified_at.map(Timestamp::as_millisecond),
    }
}

/// Whether the first-sync policy lets a pre-existing Odoo event go to Outlook.
pub(crate) fn first_sync_allows(policy: FirstSync, event: &Event, now: Timestamp) -> bool {
    match policy {
        FirstSync::All => true,
        FirstSync::None => false,
        FirstSync::Future => {
            let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
            if let Some(recurrence) = &event.recurrence {
                // A counted series may have ended already; telling needs the whole rule expanded,
                // so it is kept (sending an ended series costs one invitation, losing one costs more).
                return match recurrence.range.end {
                    RangeEnd::EndDate(last) => last >= today,
                    RangeEnd::Numbered(_) | RangeEnd::NoEnd => true,
                };
            }
            match event.end {
                EventTime::Timed(end) => end > now,
                EventTime::AllDay(end) => end > today,
            }
        }
    }
}

/// The values and the predicted content hash of the Odoo record written from `event`.
///
/// The hash is of what the addon will read back (the values as Odoo stores them), so the echo of
/// this write in the next local delta is no change.
pub(crate) fn local_values(event: &Event) -> Result<(OdooEvent, String), String> {
    let values = OdooEvent::from_event(event).map_err(|e| e.to_string())?;
    let stored = values.to_event().map_err(|e| e.to_string())?;
    Ok((values, content_hash(&stored)))
}

/// Drops the items of `ids` from a listing (first-sync exclusions).
pub(crate) fn without(listing: &Listing<LocalItem>, ids: &HashSet<String>) -> Listing<LocalItem> {
    match listing {
        Listing::Full { items } => Listing::full(
            items
                .iter()
                .filter(|i| !ids.contains(&i.id))
                .cloned()
                .collect(),
        ),
        Listing::Delta {
            changed,
            deleted,
            deleted_hashes,
        } => Listing::delta_with_hashes(
            changed
                .iter()
                .filter(|i| !ids.contains(&i.id))
                .cloned()
                .collect(),
            deleted.clone(),
            deleted_hashes.clone(),
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    fn event(start: &str, end: &str, until: Option<&str>) -> Event {
        let mut value = json!({"start": {"timed": start}, "end": {"timed": end}});
        if let Some(until) = until {
            value["recurrence"] = json!({
                "pattern": {"type": "daily", "interval": 1},
                "range": {"start_date": &start[..10], "end": {"type": "end_date", "value": until}},
            });
        }
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn future_policy_keeps_what_has_not_ended() {
        let now: Timestamp = "2026-03-01T12:00:00Z".parse().unwrap();
        let past = event("2026-02-01T09:00:00Z", "2026-02-01T10:00:00Z", None);
        let running = event("2026-03-01T11:00:00Z", "2026-03-01T13:00:00Z", None);
        assert!(!first_sync_allows(FirstSync::Future, &past, now));
        assert!(first_sync_allows(FirstSync::Future, &running, now));
        assert!(first_sync_allows(FirstSync::All, &past, now));
        assert!(!first_sync_allows(FirstSync::None, &running, now));
        let ended = event(
            "2026-01-01T09:00:00Z",
            "2026-01-01T10:00:00Z",
            Some("2026-02-01"),
        );
        let ongoing = event(
            "2026-01-01T09:00:00Z",
            "2026-01-01T10:00:00Z",
            Some("2026-04-01"),
        );
        assert!(!first_sync_allows(FirstSync::Future, &ended, now));
        assert!(first_sync_allows(FirstSync::Future, &ongoing, now));
    }
}
