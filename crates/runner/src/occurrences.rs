//! Deleted occurrences of a series, written to Outlook one instance at a time.
//!
//! Graph has nothing to PATCH for a deleted occurrence: a master's `cancelledOccurrences` is
//! read-only, and Outlook drops them whenever the series' start, end, all-day flag or rule
//! changes. So after the master's own write, each date Odoo deleted and Outlook does not is
//! looked up among the master's instances over that day (`GET /me/events/{id}/instances`, in
//! `$batch`), and that instance is deleted (`DELETE`, in `$batch`): Outlook then mails one
//! cancellation of that occurrence, and of nothing else, to each attendee.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use outlook_engine::{Outcome, WrittenItem};
use outlook_graph::{BatchRequest, GraphClient, GraphError, MAX_BATCH_SIZE, Method};
use outlook_model::graph::event_from_graph;
use outlook_model::{Event, EventTime};
use serde_json::{Map, Value};

use crate::identity::{content_hash, event_path};
use crate::output::Report;

/// Properties whose change makes Outlook drop a series' deleted occurrences.
const RESETTING: &[&str] = &["start", "end", "isAllDay", "recurrence"];

/// What a write to a series master does to its deleted occurrences.
#[derive(Debug, Clone)]
pub(crate) struct SeriesWrite {
    /// Dates Outlook still has deleted once the master's write is done.
    pub(crate) kept: Vec<Date>,
    /// Dates to delete, one instance each, after the master's write.
    pub(crate) delete: Vec<Date>,
    /// The series' zone: what an occurrence's date means.
    zone: TimeZone,
    /// The master's content when the write sends nothing (Outlook returns none then).
    pub(crate) unchanged: Option<Box<Event>>,
}

impl SeriesWrite {
    /// The plan for writing `new` over `old` (`None` for a create) with `patch`, or `None` when
    /// `new` is no series.
    pub(crate) fn plan(
        old: Option<&Event>,
        new: &Event,
        patch: Option<&Map<String, Value>>,
    ) -> Option<SeriesWrite> {
        new.recurrence.as_ref()?;
        let kept = match (old, patch) {
            (Some(old), Some(patch)) if !RESETTING.iter().any(|p| patch.contains_key(*p)) => {
                old.deleted_occurrences.clone()
            }
            (Some(old), None) => old.deleted_occurrences.clone(),
            _ => Vec::new(),
        };
        let delete: Vec<Date> = new
            .deleted_occurrences
            .iter()
            .filter(|date| !kept.contains(date))
            .copied()
            .collect();
        // A zone Graph cannot resolve was refused when the master's write was made; UTC is only
        // the fallback of an event without one.
        let zone = new
            .zone_name()
            .and_then(|name| outlook_model::timezones::resolve(name, new.label(), "time_zone").ok())
            .map_or(TimeZone::UTC, |zone| zone.tz);
        Some(SeriesWrite {
            kept,
            delete,
            zone,
            unchanged: None,
        })
    }

    /// The deleted dates once every deletion succeeded.
    fn all_deleted(&self) -> Vec<Date> {
        let mut dates: Vec<Date> = self.kept.iter().chain(&self.delete).copied().collect();
        dates.sort_unstable();
        dates.dedup();
        dates
    }

    /// The instances of `master` over `date` (the whole day in the series' zone).
    fn lookup(&self, master: &str, date: Date) -> Result<BatchRequest, String> {
        let bounds = |day: Date| -> Result<Timestamp, String> {
            self.zone
                .to_timestamp(day.to_datetime(jiff::civil::Time::midnight()))
                .map_err(|e| format!("the start of {day} in the series' zone: {e}"))
        };
        let next = date
            .tomorrow()
            .map_err(|e| format!("the day after {date}: {e}"))?;
        Ok(BatchRequest {
            method: Method::GET,
            url: format!(
                "{}/instances?startDateTime={}&endDateTime={}",
                event_path(master),
                bounds(date)?,
                bounds(next)?
            ),
            body: None,
            depends_on: None,
        })
    }

    /// The id of the occurrence originally on `date` among `instances` (a Graph list), if any.
    fn instance_on(&self, date: Date, instances: &Value) -> Option<String> {
        let on_date = |time: &EventTime| match time {
            EventTime::AllDay(day) => *day == date,
            EventTime::Timed(ts) => self.zone.to_datetime(*ts).date() == date,
        };
        instances
            .get("value")
            .and_then(Value::as_array)?
            .iter()
            .filter_map(|json| event_from_graph(json).ok())
            .find(|read| match read.event.original_start {
                // An all-day occurrence's original start is midnight of its day in UTC.
                Some(original) if !read.event.is_all_day() => on_date(&EventTime::Timed(original)),
                _ => on_date(&read.event.start),
            })
            .map(|read| read.id)
    }
}

/// Deletes the occurrences each written series asks for, then gives its outcome the master's
/// content as Outlook now holds it (Graph's answer to a PATCH does not list deleted
/// occurrences). A series whose deletions did not all succeed fails as a whole: the link keeps
/// its last synced state, so the next run sends what is missing again. Returns the ids of the
/// occurrences deleted.
pub(crate) async fn apply(
    client: &GraphClient,
    series: &[Option<&SeriesWrite>],
    outcomes: &mut [Option<Outcome>],
    written: &mut HashMap<String, Event>,
    report: &mut Report,
) -> Vec<String> {
    // (op index, date) of every lookup, in request order.
    let mut lookups: Vec<(usize, Date)> = Vec::new();
    let mut requests = Vec::new();
    let mut errors: HashMap<usize, String> = HashMap::new();
    for (index, write) in series.iter().enumerate() {
        let (Some(write), Some(Outcome::Written(item))) = (write, &outcomes[index]) else {
            continue;
        };
        for date in &write.delete {
            match write.lookup(&item.id, *date) {
                Ok(request) => {
                    lookups.push((index, *date));
                    requests.push(request);
                }
                Err(reason) => {
                    errors.entry(index).or_insert(reason);
                }
            }
        }
    }
    let mut deletes: Vec<(usize, Date, String)> = Vec::new();
    let mut delete_requests = Vec::new();
    if !requests.is_empty() {
        report.requests += requests.len().div_ceil(MAX_BATCH_SIZE);
        for ((index, date), result) in lookups.into_iter().zip(client.batch(requests).await) {
            let Some(write) = series[index] else { continue };
            match result {
                Ok(response) => {
                    let found = response
                        .body
                        .as_ref()
                        .and_then(|body| write.instance_on(date, body));
                    // No occurrence on that day: already deleted, or not a day of the rule.
                    if let Some(id) = found {
                        delete_requests.push(BatchRequest {
                            method: Method::DELETE,
                            url: event_path(&id),
                            body: None,
                            depends_on: None,
                        });
                        deletes.push((index, date, id));
                    }
                }
                Err(error) => {
                    errors.entry(index).or_insert(format!(
                        "finding the occurrence of {date} to delete failed: {error}"
                    ));
                }
            }
        }
    }
    let mut deleted = Vec::new();
    if !delete_requests.is_empty() {
        report.requests += delete_requests.len().div_ceil(MAX_BATCH_SIZE);
        let results = client.batch(delete_requests).await;
        for ((index, date, id), result) in deletes.into_iter().zip(results) {
            match result {
                Ok(_) | Err(GraphError::Api { status: 404, .. }) => deleted.push(id),
                Err(error) => {
                    errors
                        .entry(index)
                        .or_insert(format!("deleting the occurrence of {date} failed: {error}"));
                }
            }
        }
    }
    for (index, write) in series.iter().enumerate() {
        let Some(write) = write else { continue };
        let Some(Outcome::Written(item)) = &outcomes[index] else {
            continue;
        };
        if let Some(reason) = errors.remove(&index) {
            outcomes[index] = Some(Outcome::Failed { reason });
            continue;
        }
        let event = written
            .remove(&item.id)
            .or_else(|| write.unchanged.as_deref().cloned());
        let Some(mut event) = event else { continue };
        event.deleted_occurrences = write.all_deleted();
        let item = WrittenItem {
            hash: content_hash(&event),
            ..item.clone()
        };
        written.insert(item.id.clone(), event);
        outcomes[index] = Some(Outcome::Written(item));
    }
    deleted
}
