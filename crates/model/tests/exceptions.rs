#![allow(clippy::unwrap_used)]
//! Edited occurrences of a series (exceptions): read from Graph's `exceptionOccurrences`, part of
//! the series' content (hash), carried to and from Odoo's values, never part of a PATCH of the
//! master.

use jiff::civil::date;
use outlook_model::graph::{diff_to_graph_patch, event_from_graph};
use outlook_model::odoo::OdooEvent;
use outlook_model::{Event, EventTime, OccurrenceException, semantic_hash, semantic_hash_hex};
use serde_json::{Value, json};

/// A daily series at 09:00 in Paris (07:00 UTC in June) with its third occurrence moved to 14:00
/// and renamed, as the emulator (and Graph, with `$expand=exceptionOccurrences`) sends it.
fn series_json() -> Value {
    json!({
        "id": "AAMkMaster=", "subject": "Daily stand-up", "type": "seriesMaster",
        "location": {"displayName": "Room 1"},
        "originalStartTimeZone": "Romance Standard Time",
        "start": {"dateTime": "2026-06-01T09:00:00.0000000", "timeZone": "Romance Standard Time"},
        "end":   {"dateTime": "2026-06-01T09:15:00.0000000", "timeZone": "Romance Standard Time"},
        "recurrence": {
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "numbered", "startDate": "2026-06-01", "numberOfOccurrences": 5,
                      "recurrenceTimeZone": "Romance Standard Time"}
        },
        "exceptionOccurrences": [
            {"id": "AAMkExc3=", "type": "exception", "seriesMasterId": "AAMkMaster=",
             "subject": "Stand-up (late)", "location": {"displayName": "Room 1"},
             "originalStart": "2026-06-03T07:00:00Z",
             "start": {"dateTime": "2026-06-03T12:00:00.0000000", "timeZone": "UTC"},
             "end":   {"dateTime": "2026-06-03T12:30:00.0000000", "timeZone": "UTC"}},
            // Edited, then set back to what the rule says: no exception at all.
            {"id": "AAMkExc2=", "type": "exception", "seriesMasterId": "AAMkMaster=",
             "subject": "Daily stand-up", "location": {"displayName": "Room 1"},
             "originalStart": "2026-06-02T07:00:00Z",
             "start": {"dateTime": "2026-06-02T07:00:00.0000000", "timeZone": "UTC"},
             "end":   {"dateTime": "2026-06-02T07:15:00.0000000", "timeZone": "UTC"}}
        ]
    })
}

fn at(text: &str) -> EventTime {
    EventTime::Timed(text.parse().unwrap())
}

#[test]
fn a_masters_exception_occurrences_are_its_exceptions_by_original_day() {
    let event = event_from_graph(&series_json()).unwrap().event;
    assert_eq!(
        event.exceptions,
        [OccurrenceException {
            date: date(2026, 6, 3),
            start: at("2026-06-03T12:00:00Z"),
            end: at("2026-06-03T12:30:00Z"),
            subject: "Stand-up (late)".into(),
            location: Some("Room 1".into()),
            body_html: None,
            attendees: None,
            reminder_minutes: None,
        }]
    );
}

#[test]
fn microsofts_documented_example_names_the_occurrence_by_occurrence_id() {
    // Learn `event-get` example 3: `$select` leaves only the selected fields, no originalStart.
    let json = json!({
        "id": "AAMkADAGAADDdm4NAAA=", "subject": "Daily stand-up",
        "recurrence": {"pattern": {"type": "daily", "interval": 1},
                       "range": {"type": "noEnd", "startDate": "2020-04-23"}},
        "start": {"dateTime": "2020-04-23T11:30:00.0000000", "timeZone": "UTC"},
        "end":   {"dateTime": "2020-04-23T12:00:00.0000000", "timeZone": "UTC"},
        "exceptionOccurrences": [{"id": "AAMkADM0ZGRhMjdjLTA==", "subject": "SM update 24",
            "occurrenceId": "OID.AAMkADAGAADDdm4NAAA=.2020-05-21",
            "start": {"dateTime": "2020-05-21T11:30:00.0000000", "timeZone": "UTC"},
            "end":   {"dateTime": "2020-05-21T12:00:00.0000000", "timeZone": "UTC"}}]
    });
    let event = event_from_graph(&json).unwrap().event;
    assert_eq!(event.exceptions.len(), 1);
    assert_eq!(event.exceptions[0].date, date(2020, 5, 21));
    assert_eq!(event.exceptions[0].subject, "SM update 24");
}

#[test]
fn an_exception_that_cannot_say_which_occurrence_it_is_is_an_error_naming_it() {
    let mut json = series_json();
    json["exceptionOccurrences"][0]
        .as_object_mut()
        .unwrap()
        .remove("originalStart");
    let error = event_from_graph(&json).unwrap_err().to_string();
    assert!(error.contains("AAMkMaster="), "{error}");
    assert!(
        error.contains("exceptionOccurrences[0].originalStart"),
        "{error}"
    );
}

#[test]
fn an_exception_changes_the_series_hash_but_never_the_masters_patch() {
    let with = event_from_graph(&series_json()).unwrap().event;
    let mut without = series_json();
    without
        .as_object_mut()
        .unwrap()
        .remove("exceptionOccurrences");
    let without = event_from_graph(&without).unwrap().event;
    assert!(without.exceptions.is_empty());
    assert_ne!(semantic_hash(&with), semantic_hash(&without));
    let mut renamed = with.clone();
    renamed.exceptions[0].subject = "Other".into();
    assert_ne!(semantic_hash(&renamed), semantic_hash(&with));
    // Outlook writes exceptions one instance at a time.
    assert!(diff_to_graph_patch(&without, &with).unwrap().is_empty());
}

/// The hash is persisted: pin the encoding of exceptions as `semantic_hash.rs` pins the rest.
#[test]
fn encoding_of_exceptions_is_pinned() {
    let event = event_from_graph(&series_json()).unwrap().event;
    assert_eq!(
        semantic_hash_hex(&event),
        "35588347f361b0e0077f6c4917ed50d9dc300ce286f94140a0fdf010b735c8e1"
    );
}

#[test]
fn odoo_values_carry_the_exceptions_both_ways_with_the_same_hash() {
    let event = event_from_graph(&series_json()).unwrap().event;
    let odoo = OdooEvent::from_event(&event).unwrap();
    let json = serde_json::to_value(&odoo).unwrap();
    assert_eq!(
        json["recurrence"]["exceptions"],
        json!([{"date": "2026-06-03", "start": "2026-06-03 12:00:00", "stop": "2026-06-03 12:30:00",
                "start_date": null, "stop_date": null, "name": "Stand-up (late)",
                "location": "Room 1"}])
    );
    let back = OdooEvent::from_json(&json).unwrap().to_event().unwrap();
    assert_eq!(back.exceptions, event.exceptions);
    assert_eq!(semantic_hash(&back), semantic_hash(&event));

    // The addon lists every occurrence edited on its own, in any order, with Odoo's `False`; one
    // that matches the rule again (an edit undone) is no exception.
    let mut listed = json.clone();
    listed["recurrence"]["exceptions"] = json!([
        {"date": "2026-06-04", "start": "2026-06-04 07:00:00", "stop": "2026-06-04 07:15:00",
         "start_date": false, "stop_date": false, "name": "Daily stand-up", "location": "Room 1"},
        {"date": "2026-06-03", "start": "2026-06-03 12:00:00", "stop": "2026-06-03 12:30:00",
         "name": "Stand-up (late)", "location": "Room 1"},
    ]);
    let listed = OdooEvent::from_json(&listed).unwrap().to_event().unwrap();
    assert_eq!(semantic_hash(&listed), semantic_hash(&event));

    let mut bad = json;
    bad["recurrence"]["exceptions"][0]["stop"] = json!("2026-06-03 11:00:00");
    let error = OdooEvent::from_json(&bad)
        .unwrap()
        .to_event()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("recurrence.exceptions[2026-06-03].stop"),
        "{error}"
    );
}

#[test]
fn all_day_exceptions_keep_odoos_inclusive_stop_date() {
    let json = json!({
        "id": "AAMkAllDay=", "subject": "Holiday", "isAllDay": true,
        "originalStartTimeZone": "Romance Standard Time",
        "start": {"dateTime": "2026-06-01T00:00:00.0000000", "timeZone": "Romance Standard Time"},
        "end":   {"dateTime": "2026-06-02T00:00:00.0000000", "timeZone": "Romance Standard Time"},
        "recurrence": {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                       "range": {"type": "noEnd", "startDate": "2026-06-01"}},
        "exceptionOccurrences": [{"id": "AAMkExc=", "subject": "Holiday", "isAllDay": true,
            "originalStart": "2026-06-08T00:00:00Z",
            "start": {"dateTime": "2026-06-09T00:00:00.0000000", "timeZone": "Romance Standard Time"},
            "end":   {"dateTime": "2026-06-11T00:00:00.0000000", "timeZone": "Romance Standard Time"}}]
    });
    let event = event_from_graph(&json).unwrap().event;
    assert_eq!(event.exceptions[0].date, date(2026, 6, 8));
    assert_eq!(
        event.exceptions[0].end,
        EventTime::AllDay(date(2026, 6, 11))
    );
    let odoo = serde_json::to_value(OdooEvent::from_event(&event).unwrap()).unwrap();
    assert_eq!(
        odoo["recurrence"]["exceptions"][0]["start_date"],
        "2026-06-09"
    );
    assert_eq!(
        odoo["recurrence"]["exceptions"][0]["stop_date"],
        "2026-06-10"
    );
    let back = OdooEvent::from_json(&odoo).unwrap().to_event().unwrap();
    // (Odoo has no first day of the week: compare what it can hold.)
    assert_eq!(back.exceptions, event.exceptions);
}

/// [`series_json`] with a body, its moved occurrence carrying the master's body as Outlook renders
/// it (wrapper, other whitespace), and a fourth occurrence whose only edit is its body.
fn series_with_bodies_json(fourth_body: &str) -> Value {
    let mut json = series_json();
    json["body"] = json!({"contentType": "html", "content": "<p>Agenda</p>"});
    json["exceptionOccurrences"][0]["body"] = json!({"contentType": "html",
        "content": "<html><head></head><body>\r\n<p>Agenda</p>\r\n</body></html>"});
    json["exceptionOccurrences"].as_array_mut().unwrap().push(
        json!({"id": "AAMkExc4=", "type": "exception", "seriesMasterId": "AAMkMaster=",
             "subject": "Daily stand-up", "location": {"displayName": "Room 1"},
             "originalStart": "2026-06-04T07:00:00Z",
             "start": {"dateTime": "2026-06-04T07:00:00.0000000", "timeZone": "UTC"},
             "end":   {"dateTime": "2026-06-04T07:15:00.0000000", "timeZone": "UTC"},
             "body": {"contentType": "html", "content": fourth_body}}),
    );
    json
}

#[test]
fn an_occurrence_whose_only_edit_is_its_body_is_an_exception_carrying_it() {
    let body = "<html><body><p>Agenda: <b>demo</b></p></body></html>";
    let event = event_from_graph(&series_with_bodies_json(body))
        .unwrap()
        .event;
    assert_eq!(event.exceptions.len(), 2, "{:?}", event.exceptions);
    // The moved one has the master's body (normalized): no body of its own.
    assert_eq!(event.exceptions[0].date, date(2026, 6, 3));
    assert_eq!(event.exceptions[0].body_html, None);
    assert_eq!(event.exceptions[0].body(&event), "<p>Agenda</p>");
    let fourth = &event.exceptions[1];
    assert_eq!(fourth.date, date(2026, 6, 4));
    assert_eq!(
        (fourth.start, fourth.end),
        (at("2026-06-04T07:00:00Z"), at("2026-06-04T07:15:00Z"))
    );
    assert_eq!(fourth.body_html.as_deref(), Some(body));
    assert_eq!(fourth.as_event(&event).body_html, body);

    // Its body counts in the series' hash; the master's PATCH never carries it.
    let plain = event_from_graph(&series_with_bodies_json("<p>Agenda</p>"))
        .unwrap()
        .event;
    assert_eq!(
        plain.exceptions.len(),
        1,
        "the master's body again: no edit"
    );
    assert_ne!(semantic_hash(&plain), semantic_hash(&event));
    let mut other = event.clone();
    other.exceptions[1].body_html = Some("<p>Agenda: other</p>".into());
    assert_ne!(semantic_hash(&other), semantic_hash(&event));
    let mut reflowed = event.clone();
    reflowed.exceptions[1].body_html = Some("<p>Agenda:\n  <b>demo</b></p>".into());
    assert_eq!(semantic_hash(&reflowed), semantic_hash(&event));
    assert!(diff_to_graph_patch(&plain, &event).unwrap().is_empty());
}

#[test]
fn occurrence_bodies_go_to_odoo_made_safe_and_come_back_with_the_same_hash() {
    let event = event_from_graph(&series_with_bodies_json(
        "<html><body><p>Agenda: <b>demo</b></p></body></html>",
    ))
    .unwrap()
    .event;
    let odoo = serde_json::to_value(OdooEvent::from_event(&event).unwrap()).unwrap();
    let exceptions = &odoo["recurrence"]["exceptions"];
    // The master's body is the series' description: the moved occurrence says nothing of it.
    assert!(exceptions[0].get("description").is_none(), "{exceptions}");
    assert_eq!(exceptions[1]["date"], "2026-06-04");
    assert_eq!(exceptions[1]["description"], "<p>Agenda: <b>demo</b></p>");
    let back = OdooEvent::from_json(&odoo).unwrap().to_event().unwrap();
    assert_eq!(back.exceptions.len(), 2);
    assert_eq!(semantic_hash(&back), semantic_hash(&event));

    // The addon lists each edited occurrence's description as Odoo renders it: the series' own
    // (reflowed) is no body of its own; one left empty is.
    let mut listed = odoo.clone();
    listed["recurrence"]["exceptions"][0]["description"] = json!("<p>Agenda</p>\n");
    let listed_event = OdooEvent::from_json(&listed).unwrap().to_event().unwrap();
    assert_eq!(listed_event.exceptions[0].body_html, None);
    assert_eq!(semantic_hash(&listed_event), semantic_hash(&event));
    listed["recurrence"]["exceptions"][1]["description"] = json!(false);
    let emptied = OdooEvent::from_json(&listed).unwrap().to_event().unwrap();
    assert_eq!(emptied.exceptions[1].body_html.as_deref(), Some(""));
    assert_ne!(semantic_hash(&emptied), semantic_hash(&event));

    // Written by anyone who can invite: made safe before it reaches Odoo, as the master's body.
    let hostile = event_from_graph(&series_with_bodies_json(
        "<p onclick=\"steal()\">Agenda</p><script>alert(document.cookie)</script>\
         <img src=\"https://t.example/p.gif\" width=\"1\" height=\"1\">",
    ))
    .unwrap()
    .event;
    let odoo = serde_json::to_value(OdooEvent::from_event(&hostile).unwrap()).unwrap();
    let description = odoo["recurrence"]["exceptions"][1]["description"]
        .as_str()
        .unwrap();
    assert!(!description.contains("script"), "{description}");
    assert!(!description.contains("onclick"), "{description}");
    assert!(!description.contains("<img"), "{description}");
    assert!(description.contains("Agenda"), "{description}");
}

#[test]
fn an_exception_stored_without_a_body_has_the_masters() {
    // Links stored before occurrence bodies were synced hold exceptions without one.
    let event = event_from_graph(&series_with_bodies_json("<p>Other</p>"))
        .unwrap()
        .event;
    let mut stored = serde_json::to_value(&event.exceptions[0]).unwrap();
    assert!(stored.get("body_html").is_none(), "{stored}");
    stored["subject"] = json!("Renamed");
    let read: OccurrenceException = serde_json::from_value(stored).unwrap();
    assert_eq!(read.body_html, None);
    assert_eq!(read.body(&event), "<p>Agenda</p>");
}

/// The hash is persisted: pin the encoding of an occurrence's own body (an exception with the
/// master's body is pinned by [`encoding_of_exceptions_is_pinned`], unchanged by bodies).
#[test]
fn encoding_of_an_occurrence_body_is_pinned() {
    let event = event_from_graph(&series_with_bodies_json("<p>Agenda: <b>demo</b></p>"))
        .unwrap()
        .event;
    assert_eq!(
        semantic_hash_hex(&event),
        "d3b1ea07a1fa8e0c835944f9485f0b14e1ed869b94b95178e436d94711208fb3"
    );
}

/// A Graph attendee (required, no answer).
fn graph_attendee(address: &str) -> Value {
    json!({"type": "required", "status": {"response": "none"},
           "emailAddress": {"address": address, "name": address}})
}

/// [`series_json`] as Graph sends a meeting: attendees and a reminder on the master, and on every
/// occurrence too (each one's own list, the master's where it was not changed). The moved
/// occurrence repeats the master's, in other letter case, order and answers; a fourth occurrence
/// has `fourth` as its own attendees and `fourth_reminder` (`isReminderOn`, minutes).
/// [`series_with_attendees_json`], read.
fn series_with_attendees(fourth: &[&str], fourth_reminder: (bool, u32)) -> Event {
    event_from_graph(&series_with_attendees_json(fourth, fourth_reminder))
        .unwrap()
        .event
}

fn series_with_attendees_json(fourth: &[&str], fourth_reminder: (bool, u32)) -> Value {
    let mut json = series_json();
    json["attendees"] = json!([
        graph_attendee("ann@fabrikam.com"),
        graph_attendee("bob@fabrikam.com")
    ]);
    json["isReminderOn"] = json!(true);
    json["reminderMinutesBeforeStart"] = json!(15);
    let mut accepted = graph_attendee("ANN@Fabrikam.com");
    accepted["status"]["response"] = json!("accepted");
    json["exceptionOccurrences"][0]["attendees"] =
        json!([graph_attendee("bob@fabrikam.com"), accepted]);
    json["exceptionOccurrences"][0]["isReminderOn"] = json!(true);
    json["exceptionOccurrences"][0]["reminderMinutesBeforeStart"] = json!(15);
    let attendees: Vec<Value> = fourth.iter().map(|a| graph_attendee(a)).collect();
    json["exceptionOccurrences"].as_array_mut().unwrap().push(
        json!({"id": "AAMkExc4=", "type": "exception", "seriesMasterId": "AAMkMaster=",
             "subject": "Daily stand-up", "location": {"displayName": "Room 1"},
             "originalStart": "2026-06-04T07:00:00Z",
             "start": {"dateTime": "2026-06-04T07:00:00.0000000", "timeZone": "UTC"},
             "end":   {"dateTime": "2026-06-04T07:15:00.0000000", "timeZone": "UTC"},
             "attendees": attendees, "isReminderOn": fourth_reminder.0,
             "reminderMinutesBeforeStart": fourth_reminder.1}),
    );
    json
}

#[test]
fn an_occurrence_with_the_series_attendees_and_reminder_is_no_edit_and_hashes_as_before() {
    // Same people (case, order and answers aside) and the same reminder: nothing of its own.
    let event = series_with_attendees(&["Bob@fabrikam.com", "ann@fabrikam.com"], (true, 15));
    assert_eq!(event.exceptions.len(), 1, "{:?}", event.exceptions);
    assert_eq!(event.exceptions[0].attendees, None);
    assert_eq!(event.exceptions[0].reminder_minutes, None);
    // The hash is the one of the same series read without the occurrences' attendees and
    // reminders (what links stored before they were synced were computed from).
    let mut plain = series_with_attendees_json(&[], (true, 15));
    for exception in plain["exceptionOccurrences"].as_array_mut().unwrap() {
        let exception = exception.as_object_mut().unwrap();
        for field in ["attendees", "isReminderOn", "reminderMinutesBeforeStart"] {
            exception.remove(field);
        }
    }
    let plain = event_from_graph(&plain).unwrap().event;
    assert_eq!(plain.exceptions, event.exceptions);
    assert_eq!(semantic_hash(&plain), semantic_hash(&event));
}

#[test]
fn an_occurrences_own_attendees_and_reminder_make_it_an_exception_carrying_them() {
    let event = series_with_attendees(&["ann@fabrikam.com", "cat@fabrikam.com"], (false, 0));
    assert_eq!(event.exceptions.len(), 2, "{:?}", event.exceptions);
    let fourth = &event.exceptions[1];
    assert_eq!(fourth.date, date(2026, 6, 4));
    let own: Vec<&str> = fourth
        .attendees
        .as_ref()
        .unwrap()
        .iter()
        .map(|a| a.email.as_ref().unwrap().as_str())
        .collect();
    assert_eq!(own, ["ann@fabrikam.com", "cat@fabrikam.com"]);
    assert_eq!(
        fourth.reminder_minutes,
        Some(None),
        "no reminder, unlike the series"
    );
    let alone = fourth.as_event(&event);
    assert_eq!(alone.attendees.len(), 2);
    assert_eq!(alone.reminder_minutes, None);
    assert_eq!(
        event.exceptions[0].as_event(&event).reminder_minutes,
        Some(15)
    );

    // Each counts in the series' hash on its own; the master's PATCH never carries them.
    let same = series_with_attendees(&["ann@fabrikam.com", "bob@fabrikam.com"], (true, 15));
    let mut only_attendees = event.clone();
    only_attendees.exceptions[1].reminder_minutes = None;
    let mut only_reminder = event.clone();
    only_reminder.exceptions[1].attendees = None;
    let hashes = [&same, &only_attendees, &only_reminder, &event].map(semantic_hash);
    for (i, a) in hashes.iter().enumerate() {
        for b in &hashes[i + 1..] {
            assert_ne!(a, b);
        }
    }
    let mut recased = event.clone();
    recased.exceptions[1].attendees.as_mut().unwrap()[1].email =
        Some(outlook_model::EmailAddress::new("CAT@fabrikam.com"));
    assert_eq!(semantic_hash(&recased), semantic_hash(&event));
    assert!(diff_to_graph_patch(&same, &event).unwrap().is_empty());
}

#[test]
fn occurrence_attendees_and_reminders_go_to_odoo_and_come_back_with_the_same_hash() {
    let event = series_with_attendees(&["ann@fabrikam.com", "cat@fabrikam.com"], (true, 60));
    let odoo = serde_json::to_value(OdooEvent::from_event(&event).unwrap()).unwrap();
    let exceptions = &odoo["recurrence"]["exceptions"];
    // The moved occurrence has the series' attendees and alarms: it says nothing of them.
    assert!(exceptions[0].get("attendees").is_none(), "{exceptions}");
    assert!(exceptions[0].get("alarm_minutes").is_none(), "{exceptions}");
    assert_eq!(
        exceptions[1]["attendees"],
        json!([{"email": "ann@fabrikam.com", "name": "ann@fabrikam.com", "state": "needsAction"},
               {"email": "cat@fabrikam.com", "name": "cat@fabrikam.com", "state": "needsAction"}])
    );
    assert_eq!(exceptions[1]["alarm_minutes"], json!([60]));
    let back = OdooEvent::from_json(&odoo).unwrap().to_event().unwrap();
    assert_eq!(back.exceptions, event.exceptions);
    assert_eq!(semantic_hash(&back), semantic_hash(&event));

    // The addon lists every edited occurrence's attendees and alarms as Odoo holds them: the
    // series' (other case, other answers, several alarms whose largest is the series') are none
    // of its own; an empty alarm list is "no reminder" of its own.
    let mut listed = odoo.clone();
    listed["recurrence"]["exceptions"][0]["attendees"] = json!([
        {"email": "BOB@fabrikam.com", "name": "Bob", "state": "accepted"},
        {"email": "ann@fabrikam.com", "name": "Ann", "state": "declined"}]);
    listed["recurrence"]["exceptions"][0]["alarm_minutes"] = json!([5, 15]);
    let listed_event = OdooEvent::from_json(&listed).unwrap().to_event().unwrap();
    assert_eq!(listed_event.exceptions[0].attendees, None);
    assert_eq!(listed_event.exceptions[0].reminder_minutes, None);
    assert_eq!(semantic_hash(&listed_event), semantic_hash(&event));
    listed["recurrence"]["exceptions"][1]["alarm_minutes"] = json!([]);
    let silenced = OdooEvent::from_json(&listed).unwrap().to_event().unwrap();
    assert_eq!(silenced.exceptions[1].reminder_minutes, Some(None));
    assert_ne!(semantic_hash(&silenced), semantic_hash(&event));

    // "No reminder of its own" survives stored state (JSON `null`, not "the series'").
    let stored = serde_json::to_value(&silenced.exceptions[1]).unwrap();
    assert_eq!(stored["reminder_minutes"], Value::Null);
    let read: OccurrenceException = serde_json::from_value(stored).unwrap();
    assert_eq!(read, silenced.exceptions[1]);
}

/// The hash is persisted: pin the encoding of an occurrence's own attendees and reminder (one
/// with the master's is pinned by [`encoding_of_exceptions_is_pinned`], unchanged by them).
#[test]
fn encoding_of_occurrence_attendees_and_reminders_is_pinned() {
    let event = series_with_attendees(&["ann@fabrikam.com", "cat@fabrikam.com"], (false, 0));
    assert_eq!(
        semantic_hash_hex(&event),
        "aef0ebccfd18a16149c66376ba3d29990550022a655141d712ad344d926b30d1"
    );
}
