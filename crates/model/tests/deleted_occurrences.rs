#![allow(clippy::unwrap_used)]
//! Deleted occurrences of a series: read from Graph, part of the series' content (hash), carried
//! to and from Odoo's values, never part of a PATCH of the master.

use jiff::civil::date;
use outlook_model::graph::{diff_to_graph_patch, event_from_graph};
use outlook_model::odoo::OdooEvent;
use outlook_model::semantic_hash;
use serde_json::json;

fn series_json() -> serde_json::Value {
    json!({
        "id": "AAMkMaster=", "subject": "Daily stand-up", "type": "seriesMaster",
        "start": {"dateTime": "2026-06-01T07:00:00.0000000", "timeZone": "UTC"},
        "end":   {"dateTime": "2026-06-01T07:15:00.0000000", "timeZone": "UTC"},
        "recurrence": {
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "numbered", "startDate": "2026-06-01", "numberOfOccurrences": 4,
                      "recurrenceTimeZone": "UTC"}
        },
        "cancelledOccurrences": ["OID.AAMkMaster=.2026-06-04", "OID.AAMkMaster=.2026-06-02",
                                 "OID.AAMkMaster=.2026-06-04"]
    })
}

#[test]
fn a_masters_cancelled_occurrences_are_its_deleted_dates_sorted_once_each() {
    let read = event_from_graph(&series_json()).unwrap();
    assert_eq!(
        read.event.deleted_occurrences,
        [date(2026, 6, 2), date(2026, 6, 4)]
    );
    // Without a rule there is nothing to delete from.
    let mut single = series_json();
    single.as_object_mut().unwrap().remove("recurrence");
    assert!(
        event_from_graph(&single)
            .unwrap()
            .event
            .deleted_occurrences
            .is_empty()
    );
}

#[test]
fn a_deleted_occurrence_changes_the_series_hash_and_nothing_else_does() {
    let mut without = series_json();
    without
        .as_object_mut()
        .unwrap()
        .remove("cancelledOccurrences");
    let without = event_from_graph(&without).unwrap().event;
    let with = event_from_graph(&series_json()).unwrap().event;
    assert_ne!(semantic_hash(&with), semantic_hash(&without));
    let mut reordered = with.clone();
    reordered.deleted_occurrences.reverse();
    assert_eq!(semantic_hash(&reordered), semantic_hash(&with));
    // A PATCH of the master never carries them: Outlook deletes occurrences one by one.
    assert!(diff_to_graph_patch(&without, &with).unwrap().is_empty());
}

#[test]
fn odoo_values_carry_the_deleted_dates_in_the_recurrence_both_ways() {
    let event = event_from_graph(&series_json()).unwrap().event;
    let odoo = OdooEvent::from_event(&event).unwrap();
    let json = serde_json::to_value(&odoo).unwrap();
    assert_eq!(
        json["recurrence"]["deleted_dates"],
        json!(["2026-06-02", "2026-06-04"])
    );
    let back = OdooEvent::from_json(&json).unwrap().to_event().unwrap();
    assert_eq!(back.deleted_occurrences, event.deleted_occurrences);
    assert_eq!(semantic_hash(&back), semantic_hash(&event));

    // The addon may list them in any order, with repeats, or leave the field out.
    let mut listed = json.clone();
    listed["recurrence"]["deleted_dates"] = json!(["2026-06-04", "2026-06-02", "2026-06-02"]);
    let listed = OdooEvent::from_json(&listed).unwrap().to_event().unwrap();
    assert_eq!(listed.deleted_occurrences, event.deleted_occurrences);
    let mut absent = json;
    absent["recurrence"]
        .as_object_mut()
        .unwrap()
        .remove("deleted_dates");
    let absent = OdooEvent::from_json(&absent).unwrap().to_event().unwrap();
    assert!(absent.deleted_occurrences.is_empty());

    let mut bad = serde_json::to_value(&odoo).unwrap();
    bad["recurrence"]["deleted_dates"] = json!(["someday"]);
    let error = OdooEvent::from_json(&bad).unwrap_err().to_string();
    // Named down to the recurrence (its optional wrapper hides the inner path) and the value.
    assert!(error.contains("recurrence"), "{error}");
}
