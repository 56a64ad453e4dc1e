//! Edited occurrences of a series ("exceptions"): one occurrence moved, or given its own title,
//! location, body, attendees or reminder, while the rest of the series follows the rule.
//!
//! An exception is named by the day the rule gives it (its *original* day, in the series' zone),
//! never by where it is now: that is the one thing Outlook (`originalStart`) and Odoo (the rule's day
//! the occurrence stands for) can both tell, and it survives any number of moves.
//!
//! Each exception carries the occurrence's full content for the fields it can hold on its own
//! (times, subject, location, body, attendees, reminder), not a diff against the master: both
//! sides then describe the same occurrence with the same values, whatever each of them stores as
//! an override. The shorthands are the body, the attendees and the reminder: `None` stands for the
//! master's, and the canonical form ([`canonical_exceptions`]) uses it whenever the occurrence's
//! value is the master's as compared: a body in its normalized form ([`normalize_body`]), an
//! attendee list as its set of addresses ([`same_attendees`]: neither names, types nor answers,
//! which Odoo cannot hold per occurrence or which follow from the series'). So an HTML wrapper or
//! whitespace (Outlook's and Odoo's renderings of one text) is never an edit, an exception stored
//! before these fields were synced reads as having the master's, and the hash of a series whose
//! exceptions have the master's is what it was before they counted (see `crate::hash`, fields 14
//! to 16). An exception that says nothing the rule and the master do not already say is no
//! exception: [`canonical_exceptions`] drops it, so the semantic hash of a series does not depend
//! on whether a side remembers an edit that was undone.

use std::collections::BTreeSet;

use jiff::SignedDuration;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::event::{Attendee, Event, EventTime};
use crate::hash::normalize_body;
use crate::timezones;

/// One occurrence of a series edited on its own, as it now is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OccurrenceException {
    /// The day the rule gives this occurrence, in the series' zone: which occurrence it is, however
    /// far it moved.
    pub date: Date,
    /// Start as it now is. Of the same kind (timed or all-day) as the master's.
    pub start: EventTime,
    /// End as it now is (exclusive for all-day occurrences, as [`Event::end`]).
    pub end: EventTime,
    /// Title (trimmed by [`canonical_exceptions`]).
    #[serde(default)]
    pub subject: String,
    /// Location (trimmed, `None` when blank, by [`canonical_exceptions`]).
    #[serde(default)]
    pub location: Option<String>,
    /// Body (HTML, as [`Event::body_html`]) when it is not the master's; `None`: the master's
    /// ([`canonical_exceptions`] makes it `None` when it is the master's in normalized form). See
    /// [`OccurrenceException::body`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_html: Option<String>,
    /// Attendees when they are not the master's (another set of addresses); `None`: the master's.
    /// See [`OccurrenceException::attendees`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendees: Option<Vec<Attendee>>,
    /// Reminder (minutes before start, `Some(None)` for none) when it is not the master's;
    /// `None`: the master's. See [`OccurrenceException::reminder`].
    #[serde(
        default,
        deserialize_with = "present_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub reminder_minutes: Option<Option<u32>>,
}

/// A field that is present, `null` included, is `Some` (a missing one stays `None`), so that "no
/// reminder of its own" (`null`) survives a round trip through stored state.
fn present_option<'de, D>(deserializer: D) -> Result<Option<Option<u32>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<u32>::deserialize(deserializer).map(Some)
}

/// The key people are named by (in the semantic hash, and when attendee lists are compared): the
/// address key, else (no address) the trimmed name.
pub(crate) fn attendee_key(attendee: &Attendee) -> String {
    match &attendee.email {
        Some(email) => format!("@{}", email.key()),
        None => format!("~{}", attendee.name.as_deref().unwrap_or_default().trim()),
    }
}

/// Whether two attendee lists invite the same people: the same set of addresses (case-insensitive),
/// whatever their order, names, types or answers.
pub fn same_attendees(a: &[Attendee], b: &[Attendee]) -> bool {
    let keys = |list: &[Attendee]| list.iter().map(attendee_key).collect::<BTreeSet<_>>();
    keys(a) == keys(b)
}

impl OccurrenceException {
    /// The occurrence the rule gives `master` on `date`, unedited: the master's wall-clock start
    /// time on that day in the series' zone (a time a DST change skips moves forward, as Outlook
    /// and Odoo both do), the master's duration, subject, location, body, attendees and reminder.
    pub fn regular(master: &Event, date: Date) -> Result<OccurrenceException, ModelError> {
        let (start, end) = regular_times(master, date)?;
        Ok(OccurrenceException {
            date,
            start,
            end,
            subject: master.subject.trim().to_owned(),
            location: normalized_location(master.location.as_deref()),
            body_html: None,
            attendees: None,
            reminder_minutes: None,
        })
    }

    /// The occurrence's body: its own, else `master`'s.
    pub fn body<'a>(&'a self, master: &'a Event) -> &'a str {
        self.body_html.as_deref().unwrap_or(&master.body_html)
    }

    /// The occurrence's attendees: its own, else `master`'s.
    pub fn attendees<'a>(&'a self, master: &'a Event) -> &'a [Attendee] {
        self.attendees.as_deref().unwrap_or(&master.attendees)
    }

    /// The occurrence's reminder: its own, else `master`'s.
    pub fn reminder(&self, master: &Event) -> Option<u32> {
        self.reminder_minutes.unwrap_or(master.reminder_minutes)
    }

    /// The occurrence as an event of its own: the master's content with this occurrence's times,
    /// subject, location, body, attendees and reminder, and no recurrence. What a write to that one
    /// occurrence compares.
    pub fn as_event(&self, master: &Event) -> Event {
        Event {
            subject: self.subject.clone(),
            body_html: self.body(master).to_owned(),
            attendees: self.attendees(master).to_vec(),
            reminder_minutes: self.reminder(master),
            location: self.location.clone(),
            start: self.start,
            end: self.end,
            recurrence: None,
            deleted_occurrences: Vec::new(),
            exceptions: Vec::new(),
            ..master.clone()
        }
    }

    /// This exception in canonical form for `master`: subject trimmed, location trimmed and `None`
    /// when blank; body, attendees and reminder `None` when they are the master's as compared
    /// (attendees of its own sorted by address).
    fn normalized(mut self, master: &Event) -> OccurrenceException {
        self.subject = self.subject.trim().to_owned();
        self.location = normalized_location(self.location.as_deref());
        if self
            .body_html
            .as_deref()
            .is_some_and(|body| normalize_body(body) == normalize_body(&master.body_html))
        {
            self.body_html = None;
        }
        match &mut self.attendees {
            Some(own) if same_attendees(own, &master.attendees) => self.attendees = None,
            Some(own) => own.sort_by_cached_key(attendee_key),
            None => {}
        }
        if self.reminder_minutes == Some(master.reminder_minutes) {
            self.reminder_minutes = None;
        }
        self
    }
}

fn normalized_location(location: Option<&str>) -> Option<String> {
    location
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
}

/// The zone a series' occurrences are dated in: [`Event::zone_name`], else UTC.
pub fn series_zone(master: &Event) -> Result<TimeZone, ModelError> {
    match master.zone_name() {
        Some(name) => Ok(timezones::resolve(name, master.label(), "time_zone")?.tz),
        None => Ok(TimeZone::UTC),
    }
}

/// The day of the rule an occurrence stands for, from Graph's `originalStart` (an instant): its day
/// in the series' zone `tz`. An all-day occurrence's is midnight of that zone when it is one, else
/// midnight UTC (Graph's documents show both), so then its UTC day.
pub fn original_date(tz: &TimeZone, all_day: bool, original: jiff::Timestamp) -> Date {
    let zoned = original.to_zoned(tz.clone());
    if all_day && zoned.time() != jiff::civil::Time::midnight() {
        original.to_zoned(TimeZone::UTC).date()
    } else {
        zoned.date()
    }
}

/// The start and end the rule gives `master`'s occurrence on `date` (see
/// [`OccurrenceException::regular`]).
pub fn regular_times(master: &Event, date: Date) -> Result<(EventTime, EventTime), ModelError> {
    let item = master.label();
    match (master.start, master.end) {
        (EventTime::AllDay(start), EventTime::AllDay(end)) => {
            let days = start.until(end).map_err(|e| {
                ModelError::invalid(item, "end", end, format!("days after start: {e}"))
            })?;
            let end = date
                .checked_add(days)
                .map_err(|e| ModelError::invalid(item, "exceptions.date", date, e.to_string()))?;
            Ok((EventTime::AllDay(date), EventTime::AllDay(end)))
        }
        (EventTime::Timed(start), EventTime::Timed(end)) => {
            let tz = series_zone(master)?;
            let time = tz.to_datetime(start).time();
            let zoned = date
                .to_datetime(time)
                .to_zoned(tz)
                .map_err(|e| ModelError::invalid(item, "exceptions.date", date, e.to_string()))?;
            let duration: SignedDuration = end.duration_since(start);
            let occurrence_start = zoned.timestamp();
            let occurrence_end = occurrence_start
                .checked_add(duration)
                .map_err(|e| ModelError::invalid(item, "exceptions.date", date, e.to_string()))?;
            Ok((
                EventTime::Timed(occurrence_start),
                EventTime::Timed(occurrence_end),
            ))
        }
        (start, end) => Err(ModelError::invalid(
            item,
            "end",
            format!("{end:?}"),
            format!("not the same kind (timed or all-day) as start {start:?}"),
        )),
    }
}

/// The model's form of [`Event::exceptions`] for `master`: values normalized (a body, attendee
/// list or reminder that is the master's as compared is `None`), sorted by date, exceptions equal
/// to the regular occurrence dropped. Two exceptions for one date, or an
/// exception whose times are not of the master's kind or not in order, are errors naming the date.
pub fn canonical_exceptions(
    master: &Event,
    exceptions: Vec<OccurrenceException>,
) -> Result<Vec<OccurrenceException>, ModelError> {
    let item = master.label();
    let mut out: Vec<OccurrenceException> = Vec::with_capacity(exceptions.len());
    for exception in exceptions {
        let exception = exception.normalized(master);
        let ok = match (exception.start, exception.end, master.start) {
            (EventTime::Timed(s), EventTime::Timed(e), EventTime::Timed(_)) => s <= e,
            (EventTime::AllDay(s), EventTime::AllDay(e), EventTime::AllDay(_)) => s < e,
            _ => false,
        };
        if !ok {
            return Err(ModelError::invalid(
                item,
                format!("exceptions[{}].end", exception.date),
                format!("{:?}", exception.end),
                format!(
                    "must be after start {:?}, both of the series' kind (timed or all-day)",
                    exception.start
                ),
            ));
        }
        if exception != OccurrenceException::regular(master, exception.date)? {
            out.push(exception);
        }
    }
    out.sort_by_key(|e| e.date);
    if let Some(pair) = out.windows(2).find(|pair| pair[0].date == pair[1].date) {
        return Err(ModelError::invalid(
            item,
            "exceptions.date",
            pair[0].date,
            "two edited occurrences for the same day of the series",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use jiff::civil::date;

    use super::*;
    use crate::recurrence::{Pattern, Range, RangeEnd, Recurrence};

    fn series(zone: &str) -> Event {
        let mut event: Event = serde_json::from_value(serde_json::json!({
            "subject": " Stand-up ", "location": "Room 1",
            "start": {"timed": "2026-03-02T08:30:00Z"}, "end": {"timed": "2026-03-02T09:00:00Z"},
            "time_zone": zone,
        }))
        .unwrap();
        event.recurrence = Some(Recurrence {
            pattern: Pattern::Daily { interval: 1 },
            range: Range {
                start_date: date(2026, 3, 2),
                end: RangeEnd::NoEnd,
                time_zone: Some(zone.to_owned()),
            },
        });
        event
    }

    #[test]
    fn the_regular_occurrence_keeps_its_wall_clock_time_across_dst() {
        // 09:30 in Paris, before and after the switch to summer time on 2026-03-29.
        let master = series("Europe/Paris");
        let after = OccurrenceException::regular(&master, date(2026, 3, 30)).unwrap();
        assert_eq!(
            after.start,
            EventTime::Timed("2026-03-30T07:30:00Z".parse().unwrap())
        );
        assert_eq!(
            after.end,
            EventTime::Timed("2026-03-30T08:00:00Z".parse().unwrap())
        );
        assert_eq!(after.subject, "Stand-up");
    }

    #[test]
    fn canonical_form_is_sorted_and_drops_what_the_rule_already_says() {
        let master = series("Europe/Paris");
        let regular = OccurrenceException::regular(&master, date(2026, 3, 4)).unwrap();
        let renamed = OccurrenceException {
            subject: "Retro ".into(),
            location: Some("  ".into()),
            ..OccurrenceException::regular(&master, date(2026, 3, 3)).unwrap()
        };
        let mut moved = OccurrenceException::regular(&master, date(2026, 3, 2)).unwrap();
        moved.start = EventTime::Timed("2026-03-02T10:00:00Z".parse().unwrap());
        moved.end = EventTime::Timed("2026-03-02T11:00:00Z".parse().unwrap());
        let out =
            canonical_exceptions(&master, vec![renamed.clone(), regular, moved.clone()]).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], moved);
        assert_eq!(out[1].date, date(2026, 3, 3));
        assert_eq!(out[1].subject, "Retro");
        assert_eq!(out[1].location, None);
    }

    #[test]
    fn a_day_edited_twice_or_a_reversed_occurrence_is_refused() {
        let master = series("UTC");
        let mut renamed = OccurrenceException::regular(&master, date(2026, 3, 3)).unwrap();
        renamed.subject = "A".into();
        let twice = canonical_exceptions(&master, vec![renamed.clone(), renamed.clone()]);
        assert!(twice.unwrap_err().to_string().contains("2026-03-03"));
        let mut reversed = renamed;
        reversed.end = EventTime::Timed("2026-03-01T00:00:00Z".parse().unwrap());
        let error = canonical_exceptions(&master, vec![reversed]).unwrap_err();
        assert!(error.to_string().contains("exceptions[2026-03-03].end"));
    }
}
