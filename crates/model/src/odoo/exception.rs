//! An edited occurrence of an Odoo series as plain data, <-> [`OccurrenceException`].

use jiff::civil::{Date, DateTime};
use serde::{Deserialize, Serialize};

use super::html::sanitize_description;
use super::record::{
    OdooAttendee, attendee_from_odoo, attendee_to_odoo, odoo_times, to_odoo_times,
};
use super::{falsy, naive_utc};
use crate::error::ModelError;
use crate::recurrence::exceptions::OccurrenceException;

/// One occurrence of an Odoo series edited on its own ("this event only"): the day the rule gives
/// it and what it holds now. Times follow the series' kind, as on [`super::OdooEvent`]: naive UTC
/// `start`/`stop` for a timed series, `start_date`/`stop_date` (stop inclusive) for an all-day one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(expecting = "an edited occurrence (object with date and times)")]
pub struct OdooException {
    /// The day the rule gives this occurrence, in the series' zone.
    pub date: Date,
    /// Start, naive UTC (timed series).
    #[serde(default, with = "naive_utc")]
    pub start: Option<DateTime>,
    /// Stop, naive UTC (timed series).
    #[serde(default, with = "naive_utc")]
    pub stop: Option<DateTime>,
    /// First day (all-day series).
    #[serde(default, deserialize_with = "falsy::option")]
    pub start_date: Option<Date>,
    /// Last day, inclusive (all-day series).
    #[serde(default, deserialize_with = "falsy::option")]
    pub stop_date: Option<Date>,
    /// Title.
    #[serde(default, deserialize_with = "falsy::string")]
    pub name: Option<String>,
    /// Location.
    #[serde(default, deserialize_with = "falsy::string")]
    pub location: Option<String>,
    /// Description (HTML): absent (`None`) is the series' own; present, the occurrence's, with
    /// `false`, `null` or blank for none (`Some(None)`). The addon sends each listed occurrence's;
    /// the engine leaves it out when the occurrence has the series' body.
    #[serde(
        default,
        deserialize_with = "present_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Option<String>>,
    /// Attendees (as on [`super::OdooEvent`]: the organizer left out): absent (`None`) are the
    /// series' own; present, the occurrence's. The addon sends each listed occurrence's; the
    /// engine leaves them out when they are the series' (the same addresses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendees: Option<Vec<OdooAttendee>>,
    /// Minutes of the occurrence's notification alarms (the largest is its reminder): absent
    /// (`None`) are the series' own; present, the occurrence's (empty for none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_minutes: Option<Vec<u32>>,
}

/// A field that is present: [`falsy::string`] inside `Some` (a missing field stays `None`).
fn present_string<'de, D>(deserializer: D) -> Result<Option<Option<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    falsy::string(deserializer).map(Some)
}

impl OdooException {
    /// The neutral exception; `allday` is the series'. Errors name the record `item` and the
    /// field as `recurrence.exceptions[<date>].<field>`.
    pub(super) fn to_exception(
        &self,
        item: &str,
        allday: bool,
    ) -> Result<OccurrenceException, ModelError> {
        let prefix = format!("recurrence.exceptions[{}].", self.date);
        let (start, end) = odoo_times(
            item,
            &prefix,
            allday,
            [self.start, self.stop],
            [self.start_date, self.stop_date],
        )?;
        Ok(OccurrenceException {
            date: self.date,
            start,
            end,
            subject: self.name.clone().unwrap_or_default(),
            location: self.location.clone(),
            body_html: self
                .description
                .as_ref()
                .map(|description| description.clone().unwrap_or_default()),
            attendees: self
                .attendees
                .as_ref()
                .map(|attendees| attendees.iter().map(attendee_from_odoo).collect()),
            // Graph has one reminder: the largest alarm (the earliest warning), as for a series.
            reminder_minutes: self
                .alarm_minutes
                .as_ref()
                .map(|minutes| minutes.iter().copied().max()),
        })
    }

    /// Odoo's values for a neutral exception (`item` labels errors). An occurrence's own body is
    /// made safe for Odoo as the series' is ([`sanitize_description`]).
    pub(super) fn from_exception(
        item: &str,
        exception: &OccurrenceException,
    ) -> Result<OdooException, ModelError> {
        let ([start, stop], [start_date, stop_date]) =
            to_odoo_times(item, exception.start, exception.end)?;
        Ok(OdooException {
            date: exception.date,
            start,
            stop,
            start_date,
            stop_date,
            name: Some(exception.subject.clone()),
            location: exception.location.clone(),
            description: exception.body_html.as_deref().map(|body| {
                Some(sanitize_description(body)).filter(|body| !body.trim().is_empty())
            }),
            attendees: exception
                .attendees
                .as_ref()
                .map(|attendees| attendees.iter().map(attendee_to_odoo).collect()),
            alarm_minutes: exception
                .reminder_minutes
                .map(|minutes| minutes.into_iter().collect()),
        })
    }
}
