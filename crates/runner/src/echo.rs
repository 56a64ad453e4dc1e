//! The echo round: one more delta round, after this run's Outlook writes, from the link read
//! before them.
//!
//! The link read before the writes would show them to the next run as changes: a series' every
//! occurrence and its master read again, for nothing. Worse, an event this run created and a
//! person deleted before the next run would never be reported as removed, since the delta state
//! of that link never saw it. Reading the writes back now and storing the link after them avoids
//! both, provided the round holds nothing but our own writes: anything else (a person's change
//! since the pull) must reach the next run, so the round is then discarded whole and the link
//! read before the writes is kept, as is any failure of the round.

use std::collections::{HashMap, HashSet};

use outlook_graph::{DeltaItem, DeltaOutcome, DeltaStart, GraphClient};
use outlook_model::graph::event_from_graph;

use crate::identity::{content_hash, graph_modified_ms, graph_str};
use crate::output::Report;

const LOG: &str = "outlook_sync::runner::echo";

/// What this run wrote to Outlook, as Outlook answered it.
#[derive(Default)]
pub(crate) struct OwnWrites {
    /// Content hash of every event created or updated, by id.
    pub(crate) hashes: HashMap<String, String>,
    /// `lastModifiedDateTime` (ms) Outlook answered for each event created or updated, by id.
    pub(crate) modified: HashMap<String, i64>,
    /// Ids this run deleted (events and single occurrences).
    pub(crate) deleted: HashSet<String>,
}

/// Reads the delta from `link` (the one read before this run's writes) and returns the link
/// after it, with the ids the round listed, when every item in it is one of `own` writes; `None`
/// otherwise, or when the round fails. Never fails the run.
pub(crate) async fn echo_round(
    client: &GraphClient,
    link: &str,
    own: &OwnWrites,
    mailbox: &str,
    report: &mut Report,
) -> Option<(String, HashSet<String>)> {
    let outcome = match client.delta(DeltaStart::Link(link.to_owned())).await {
        Ok(outcome) => outcome,
        Err(error) => {
            report.requests += 1;
            log::info!(target: LOG, "[{mailbox}] reading back our writes failed ({error}); the next run reads them");
            return None;
        }
    };
    let (items, delta_link, pages) = match outcome {
        DeltaOutcome::Changes {
            items,
            delta_link,
            pages,
        } => (items, delta_link, pages),
        DeltaOutcome::ResyncRequired { code } => {
            report.requests += 1;
            log::info!(target: LOG, "[{mailbox}] reading back our writes: delta link expired ({code}); the next run reads them");
            return None;
        }
    };
    report.requests += pages as usize;
    match items.iter().find_map(|item| foreign(item, own)) {
        None => {
            let seen = items
                .iter()
                .filter_map(|item| match item {
                    // A series shows as its occurrences, each naming its master.
                    DeltaItem::Upsert(json) => graph_str(json, "seriesMasterId")
                        .or_else(|| graph_str(json, "id"))
                        .map(str::to_owned),
                    DeltaItem::Removed { .. } => None,
                })
                .collect();
            Some((delta_link, seen))
        }
        Some(what) => {
            log::info!(target: LOG, "[{mailbox}] {what} changed since this run read Outlook; the next run reads it with our writes");
            None
        }
    }
}

/// Names the item when it is not our own write as Outlook answered it.
fn foreign(item: &DeltaItem, own: &OwnWrites) -> Option<String> {
    let json = match item {
        DeltaItem::Removed { id } if own.deleted.contains(id) => return None,
        DeltaItem::Removed { id } => return Some(format!("removed item {id}")),
        DeltaItem::Upsert(json) => json,
    };
    let id = graph_str(json, "id").unwrap_or_default();
    match graph_str(json, "type").unwrap_or("singleInstance") {
        // An occurrence of a series we wrote shows the master's last change: ours unless later.
        "occurrence" => {
            let master = graph_str(json, "seriesMasterId").unwrap_or_default();
            let ours = own.modified.get(master).is_some_and(|written| {
                graph_modified_ms(json).is_some_and(|modified| modified <= *written)
            });
            (!ours).then(|| format!("occurrence {id} of series {master}"))
        }
        _ => {
            let ours = own.hashes.get(id).is_some_and(|written| {
                event_from_graph(json).is_ok_and(|read| content_hash(&read.event) == *written)
            });
            (!ours).then(|| format!("event {id}"))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn own() -> OwnWrites {
        OwnWrites {
            hashes: HashMap::new(),
            modified: HashMap::from([(
                "master".to_owned(),
                "2026-03-01T10:00:00Z"
                    .parse::<jiff::Timestamp>()
                    .unwrap()
                    .as_millisecond(),
            )]),
            deleted: HashSet::from(["gone".to_owned()]),
        }
    }

    fn occurrence(at: &str) -> DeltaItem {
        DeltaItem::Upsert(json!({
            "id": "occ-1", "type": "occurrence", "seriesMasterId": "master",
            "lastModifiedDateTime": at,
        }))
    }

    #[test]
    fn our_deletions_and_occurrences_of_our_write_are_ours() {
        let own = own();
        assert_eq!(
            foreign(&DeltaItem::Removed { id: "gone".into() }, &own),
            None
        );
        assert_eq!(
            foreign(&occurrence("2026-03-01T10:00:00.0000000Z"), &own),
            None
        );
    }

    #[test]
    fn a_later_change_or_an_unknown_item_is_foreign() {
        let own = own();
        assert!(foreign(&occurrence("2026-03-01T10:00:01Z"), &own).is_some());
        assert!(foreign(&DeltaItem::Removed { id: "other".into() }, &own).is_some());
        let single = DeltaItem::Upsert(json!({"id": "x", "type": "singleInstance"}));
        assert!(foreign(&single, &own).is_some());
        let exception = DeltaItem::Upsert(json!({
            "id": "occ-2", "type": "exception", "seriesMasterId": "master",
            "lastModifiedDateTime": "2026-03-01T09:00:00Z",
        }));
        assert!(foreign(&exception, &own).is_some());
    }
}
