//! Single occurrences of a series, written to Outlook one instance at a time: deleted ones and
//! edited ones (exceptions).
//!
//! Graph has nothing to PATCH on the master for either: a master's `cancelledOccurrences` and
//! `exceptionOccurrences` are read-only, and Outlook drops both whenever the series' start, end,
//! all-day flag or rule changes. So after the master's own write, each occurrence Odoo deleted or
//! edited and Outlook does not hold that way is looked up among the master's instances over its
//! day (`GET /me/events/{id}/instances`, in `$batch`), and that instance alone is written: a
//! `DELETE` (Outlook mails one cancellation of that occurrence) or a `PATCH` of its times, subject,
//! location, body, attendees and reminder (one update of that occurrence; for attendees alone, an
//! invitation or a cancellation of that occurrence to each attendee added or removed), all in
//! `$batch`. An occurrence already as wanted (bodies compared in normalized form, attendees by
//! address) is not written again.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use outlook_engine::{Outcome, WrittenItem};
use outlook_graph::{BatchRequest, GraphClient, GraphError, MAX_BATCH_SIZE, Method};
use outlook_model::graph::{diff_to_graph_patch, event_from_graph};
use outlook_model::recurrence::exceptions::original_date;
use outlook_model::{Event, EventTime, OccurrenceException};
use serde_json::{Map, Value};

use crate::identity::{content_hash, event_path};
use crate::mails;
use crate::output::{Mails, Report};

/// Properties whose change makes Outlook drop a series' deleted and edited occurrences.
const RESETTING: &[&str] = &["start", "end", "isAllDay", "recurrence"];

/// One occurrence to edit on its own after the master's write.
#[derive(Debug, Clone)]
pub(crate) struct ExceptionWrite {
    /// The occurrence as Outlook holds it once the master is written.
    before: OccurrenceException,
    /// The occurrence as it must be (an exception, or the rule's regular occurrence again).
    after: OccurrenceException,
    /// The PATCH of that instance (never empty).
    patch: Map<String, Value>,
}

/// What a write to a series master does to its single occurrences.
#[derive(Debug, Clone)]
pub(crate) struct SeriesWrite {
    /// Dates Outlook still has deleted once the master's write is done.
    pub(crate) kept: Vec<Date>,
    /// Dates to delete, one instance each, after the master's write.
    pub(crate) delete: Vec<Date>,
    /// Occurrences to edit, one instance each, after the master's write (by original date).
    pub(crate) edit: Vec<ExceptionWrite>,
    /// The series' exceptions once every edit succeeded.
    exceptions: Vec<OccurrenceException>,
    /// The series' zone: what an occurrence's date means.
    zone: TimeZone,
    /// The master's content when the write sends nothing (Outlook returns none then).
    pub(crate) unchanged: Option<Box<Event>>,
}

impl SeriesWrite {
    /// The plan for writing `new` over `old` (`None` for a create) with `patch`, or `None` when
    /// `new` is no series. An edit that cannot be expressed as a PATCH (a time Outlook cannot
    /// store) is an error naming the occurrence's date.
    pub(crate) fn plan(
        old: Option<&Event>,
        new: &Event,
        patch: Option<&Map<String, Value>>,
    ) -> Option<Result<SeriesWrite, String>> {
        new.recurrence.as_ref()?;
        let survives = match (old, patch) {
            (Some(_), Some(patch)) => !RESETTING.iter().any(|p| patch.contains_key(*p)),
            (Some(_), None) => true,
            (None, _) => false,
        };
        let (kept, kept_exceptions) = match old {
            Some(old) if survives => (old.deleted_occurrences.clone(), old.exceptions.clone()),
            _ => (Vec::new(), Vec::new()),
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
        let edit = match plan_edits(&kept_exceptions, new) {
            Ok(edit) => edit,
            Err(reason) => return Some(Err(reason)),
        };
        Some(Ok(SeriesWrite {
            kept,
            delete,
            edit,
            exceptions: new.exceptions.clone(),
            zone,
            unchanged: None,
        }))
    }

    /// Whether anything is written after the master.
    pub(crate) fn writes(&self) -> bool {
        !self.delete.is_empty() || !self.edit.is_empty()
    }

    /// Mails the occurrence writes cause; `master` is the series as written.
    pub(crate) fn mails(&self, master: &Event, mailbox: &str) -> Mails {
        let mut total = Mails::default();
        let each = mails::for_delete(Some(master), mailbox);
        for _ in &self.delete {
            total.add(each);
        }
        for edit in &self.edit {
            total.add(mails::for_update(
                &edit.before.as_event(master),
                &edit.after.as_event(master),
                &edit.patch,
                mailbox,
            ));
        }
        total
    }

    /// The deleted dates once every deletion succeeded.
    fn all_deleted(&self) -> Vec<Date> {
        let mut dates: Vec<Date> = self.kept.iter().chain(&self.delete).copied().collect();
        dates.sort_unstable();
        dates.dedup();
        dates
    }

    /// The start of `day` in the series' zone.
    fn day_start(&self, day: Date) -> Result<Timestamp, String> {
        self.zone
            .to_timestamp(day.to_datetime(jiff::civil::Time::midnight()))
            .map_err(|e| format!("the start of {day} in the series' zone: {e}"))
    }

    /// The instances of `master` from the start of `first` to the end of `last` (days in the
    /// series' zone).
    fn lookup(&self, master: &str, first: Date, last: Date) -> Result<BatchRequest, String> {
        let next = last
            .tomorrow()
            .map_err(|e| format!("the day after {last}: {e}"))?;
        Ok(BatchRequest {
            method: Method::GET,
            url: format!(
                "{}/instances?startDateTime={}&endDateTime={}",
                event_path(master),
                self.day_start(first)?,
                self.day_start(next)?
            ),
            body: None,
            depends_on: None,
        })
    }

    /// The lookup for the occurrence originally on `date`, which Outlook holds as `now` (moved
    /// or not): the instances over its original day and the days it now spans.
    fn lookup_edit(&self, master: &str, edit: &ExceptionWrite) -> Result<BatchRequest, String> {
        let day = |time: EventTime| match time {
            EventTime::AllDay(day) => day,
            EventTime::Timed(ts) => self.zone.to_datetime(ts).date(),
        };
        let date = edit.after.date;
        let first = date.min(day(edit.before.start));
        let last = date.max(day(edit.before.end));
        self.lookup(master, first, last)
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
                Some(original) => {
                    original_date(&self.zone, read.event.is_all_day(), original) == date
                }
                None => on_date(&read.event.start),
            })
            .map(|read| read.id)
    }
}

/// The occurrences to edit so that Outlook, holding `kept` once the master is written, ends with
/// `new`'s exceptions: each exception that differs from what Outlook holds, and each occurrence
/// Outlook holds edited that `new` has back as the rule gives it. Deleted days are left to the
/// deletions.
fn plan_edits(kept: &[OccurrenceException], new: &Event) -> Result<Vec<ExceptionWrite>, String> {
    let mut dates: BTreeMap<Date, (Option<&OccurrenceException>, Option<&OccurrenceException>)> =
        BTreeMap::new();
    for exception in kept {
        dates.entry(exception.date).or_default().0 = Some(exception);
    }
    for exception in &new.exceptions {
        dates.entry(exception.date).or_default().1 = Some(exception);
    }
    let mut edits = Vec::new();
    for (date, (before, after)) in dates {
        if new.deleted_occurrences.contains(&date) {
            continue;
        }
        let regular = || OccurrenceException::regular(new, date).map_err(|e| e.to_string());
        let before = match before {
            Some(before) => before.clone(),
            None => regular()?,
        };
        let after = match after {
            Some(after) => after.clone(),
            None => regular()?,
        };
        if before == after {
            continue;
        }
        let old_event = before.as_event(new);
        let mut new_event = after.as_event(new);
        // Odoo holds no attendee types: Outlook's stand, so that only a change of who is invited
        // writes the attendees (as for a whole event, see `push`).
        new_event.keep_attendee_types_of(&old_event);
        let patch = diff_to_graph_patch(&old_event, &new_event)
            .map_err(|e| format!("the occurrence of {date}: {e}"))?;
        if !patch.is_empty() {
            edits.push(ExceptionWrite {
                before,
                after,
                patch,
            });
        }
    }
    Ok(edits)
}

/// Which occurrence a lookup or a write is for.
#[derive(Clone, Copy)]
enum Target {
    Delete(Date),
    /// Index into the series' `edit`.
    Edit(usize),
}

/// What [`apply`] wrote to single occurrences.
#[derive(Default)]
pub(crate) struct OccurrenceWrites {
    /// Ids of the occurrences deleted.
    pub(crate) deleted: Vec<String>,
    /// Content hash of each occurrence edited, as Outlook answered it, by id.
    pub(crate) edited: HashMap<String, String>,
}

/// Deletes and edits the occurrences each written series asks for, then gives its outcome the
/// master's content as Outlook now holds it (Graph's answer to a PATCH lists neither deleted nor
/// edited occurrences). A series whose occurrence writes did not all succeed fails as a whole: the
/// link keeps its last synced state, so the next run sends what is missing again.
pub(crate) async fn apply(
    client: &GraphClient,
    series: &[Option<&SeriesWrite>],
    outcomes: &mut [Option<Outcome>],
    written: &mut HashMap<String, Event>,
    report: &mut Report,
) -> OccurrenceWrites {
    // (op index, target) of every lookup, in request order.
    let mut lookups: Vec<(usize, Target)> = Vec::new();
    let mut requests = Vec::new();
    let mut errors: HashMap<usize, String> = HashMap::new();
    for (index, write) in series.iter().enumerate() {
        let (Some(write), Some(Outcome::Written(item))) = (write, &outcomes[index]) else {
            continue;
        };
        let targets = write
            .delete
            .iter()
            .map(|date| (Target::Delete(*date), write.lookup(&item.id, *date, *date)))
            .chain(
                write
                    .edit
                    .iter()
                    .enumerate()
                    .map(|(i, edit)| (Target::Edit(i), write.lookup_edit(&item.id, edit))),
            );
        for (target, request) in targets {
            match request {
                Ok(request) => {
                    lookups.push((index, target));
                    requests.push(request);
                }
                Err(reason) => {
                    errors.entry(index).or_insert(reason);
                }
            }
        }
    }
    let mut writes: Vec<(usize, Target, String)> = Vec::new();
    let mut write_requests = Vec::new();
    if !requests.is_empty() {
        report.requests += requests.len().div_ceil(MAX_BATCH_SIZE);
        for ((index, target), result) in lookups.into_iter().zip(client.batch(requests).await) {
            let Some(write) = series[index] else { continue };
            let date = match target {
                Target::Delete(date) => date,
                Target::Edit(i) => write.edit[i].after.date,
            };
            let found = match result {
                Ok(response) => response
                    .body
                    .as_ref()
                    .and_then(|body| write.instance_on(date, body)),
                Err(error) => {
                    errors.entry(index).or_insert(format!(
                        "finding the occurrence of {date} in Outlook failed: {error}"
                    ));
                    continue;
                }
            };
            match (target, found) {
                (Target::Delete(_), Some(id)) => {
                    write_requests.push(BatchRequest {
                        method: Method::DELETE,
                        url: event_path(&id),
                        body: None,
                        depends_on: None,
                    });
                    writes.push((index, target, id));
                }
                // No occurrence on that day: already deleted, or not a day of the rule.
                (Target::Delete(_), None) => {}
                (Target::Edit(i), Some(id)) => {
                    write_requests.push(BatchRequest {
                        method: Method::PATCH,
                        url: event_path(&id),
                        body: Some(Value::Object(write.edit[i].patch.clone())),
                        depends_on: None,
                    });
                    writes.push((index, target, id));
                }
                (Target::Edit(_), None) => {
                    errors.entry(index).or_insert(format!(
                        "Outlook has no occurrence of {date} to edit (deleted there, or not a \
                         day of the series' rule)"
                    ));
                }
            }
        }
    }
    let mut done = OccurrenceWrites::default();
    if !write_requests.is_empty() {
        report.requests += write_requests.len().div_ceil(MAX_BATCH_SIZE);
        let results = client.batch(write_requests).await;
        for ((index, target, id), result) in writes.into_iter().zip(results) {
            match (target, result) {
                (Target::Delete(_), Ok(_) | Err(GraphError::Api { status: 404, .. })) => {
                    done.deleted.push(id);
                }
                (Target::Edit(_), Ok(response)) => {
                    if let Some(read) = response
                        .body
                        .as_ref()
                        .and_then(|b| event_from_graph(b).ok())
                    {
                        done.edited.insert(id, content_hash(&read.event));
                    }
                }
                (Target::Delete(date), Err(error)) => {
                    errors
                        .entry(index)
                        .or_insert(format!("deleting the occurrence of {date} failed: {error}"));
                }
                (Target::Edit(i), Err(error)) => {
                    let date = series[index].map(|w| w.edit[i].after.date);
                    errors.entry(index).or_insert(format!(
                        "editing the occurrence of {} failed: {error}",
                        date.map_or_else(|| "?".to_owned(), |d| d.to_string())
                    ));
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
        event.exceptions.clone_from(&write.exceptions);
        let item = WrittenItem {
            hash: content_hash(&event),
            ..item.clone()
        };
        written.insert(item.id.clone(), event);
        outcomes[index] = Some(Outcome::Written(item));
    }
    done
}
