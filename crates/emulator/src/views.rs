//! Reads: event lists, calendarView, instances and calendarView delta.

use std::collections::{HashMap, VecDeque};

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};

use crate::errors::GraphError;
use crate::render::{self, RenderOptions};
use crate::store::{Event, Mailbox};
use crate::timezones;

/// Graph's cap on a calendarView window.
const MAX_WINDOW_DAYS: i64 = 1825;
/// Outlook keeps a bounded cache of sync states; older tokens answer 410.
const TOKENS_KEPT: usize = 32;
/// calendarView and event lists page by 10 without `$top`, as Graph does.
const DEFAULT_PAGE: usize = 10;

/// One expanded item in a window: a single event, an occurrence or an exception.
#[derive(Debug, Clone)]
pub struct InstanceRef {
    /// The single event or the series master.
    pub event_id: String,
    /// The occurrence's original date (None for a single event).
    pub date: Option<Date>,
    /// The instance's id.
    pub id: String,
    /// Its start.
    pub start: Timestamp,
    /// Its change key.
    pub change_key: String,
}

/// A delta round's state: the window and what the client has seen.
#[derive(Debug, Clone)]
pub struct DeltaToken {
    from: Timestamp,
    to: Timestamp,
    /// Instance id -> change key, for everything in the window.
    snapshot: HashMap<String, String>,
    /// Event id -> change key, for singles and masters with nothing in the window (for the outside-window
    /// `@removed` quirk).
    outside: HashMap<String, String>,
    /// What the round that ended here reported as changed (for the replay quirk).
    sent: Vec<Pending>,
}

/// Observed Outlook delta behaviours that are not contract, switchable for client robustness tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeltaQuirks {
    /// Each round starts with an empty page that carries a nextLink.
    pub empty_pages: bool,
    /// Events outside the window that were added, changed or deleted come back as `@removed`.
    pub removed_outside_window: bool,
    /// Each round also re-sends what the previous round sent (still current: as is; gone: as `@removed`).
    pub replays: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Pending {
    Upsert(String),
    Removed(String),
}

/// A round being paged through.
#[derive(Debug, Clone)]
pub struct PageState {
    round: DeltaToken,
    items: Vec<Pending>,
    offset: usize,
}

/// Per-mailbox delta and skip tokens (the most recent few of each).
#[derive(Debug, Clone, Default)]
pub struct DeltaState {
    tokens: VecDeque<(String, DeltaToken)>,
    pages: VecDeque<(String, PageState)>,
    /// Tokens reset by the server: token -> the window to start again with.
    resets: VecDeque<(String, (Timestamp, Timestamp))>,
}

impl DeltaState {
    /// Forgets every token: later use answers `410 SyncStateNotFound`.
    pub fn expire(&mut self) {
        self.tokens.clear();
        self.pages.clear();
        self.resets.clear();
    }

    /// Resets every token: later use answers `410` with a `Location` header holding a fresh initial query
    /// for the same window (Graph's "sync reset").
    pub fn reset(&mut self) {
        let tokens = self
            .tokens
            .drain(..)
            .map(|(t, s)| (t, (s.from, s.to)))
            .chain(
                self.pages
                    .drain(..)
                    .map(|(t, p)| (t, (p.round.from, p.round.to))),
            )
            .collect::<Vec<_>>();
        for (token, window) in tokens {
            push_bounded(&mut self.resets, token, window);
        }
    }

    /// The answer for a token that is not (or no longer) known.
    fn gone(&self, token: &str, link_base: &str) -> GraphError {
        let Some((_, (from, to))) = self.resets.iter().find(|(t, _)| t == token) else {
            return sync_state_not_found();
        };
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("startDateTime", &from.to_string())
            .append_pair("endDateTime", &to.to_string())
            .finish();
        let mut err = GraphError::new(
            410,
            "resyncRequired",
            "The sync state was reset by the server; start a full synchronization from the Location URL.",
        );
        err.headers
            .push(("Location".to_owned(), format!("{link_base}?{query}")));
        err
    }
}

/// Query parameter by name, case-insensitive, with or without the `$`.
pub fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let bare = name.trim_start_matches('$');
    query
        .iter()
        .find(|(k, _)| k.trim_start_matches('$').eq_ignore_ascii_case(bare))
        .map(|(_, v)| v.as_str())
}

fn overlaps(start: Timestamp, end: Timestamp, from: Timestamp, to: Timestamp) -> bool {
    if start == end {
        return start >= from && start < to;
    }
    start < to && end > from
}

/// The expanded items of one event in `[from, to)`, unsorted.
pub fn event_instances(ev: &Event, from: Timestamp, to: Timestamp) -> Vec<InstanceRef> {
    let Some(_) = &ev.recurrence else {
        if overlaps(ev.start.instant(), ev.end.instant(), from, to) {
            return vec![InstanceRef {
                event_id: ev.id.clone(),
                date: None,
                id: ev.id.clone(),
                start: ev.start.instant(),
                change_key: ev.change_key.clone(),
            }];
        }
        return Vec::new();
    };
    let until = ev
        .series_zone()
        .local(to)
        .date()
        .tomorrow()
        .unwrap_or(Date::MAX);
    let mut dates = ev.occurrence_dates(until);
    // Exceptions moved in from beyond the horizon are still found.
    dates.extend(ev.exceptions.keys().filter(|d| **d > until));
    dates
        .into_iter()
        .filter_map(|date| {
            let (start, end) = match ev.exceptions.get(&date) {
                Some(exc) => (exc.start.instant(), exc.end.instant()),
                None => {
                    let (s, e) = ev.occurrence_times(date);
                    (s.instant(), e.instant())
                }
            };
            overlaps(start, end, from, to).then(|| InstanceRef {
                event_id: ev.id.clone(),
                date: Some(date),
                id: crate::ids::occurrence_id(&ev.id, date).unwrap_or_default(),
                start,
                change_key: ev.occurrence_change_key(date),
            })
        })
        .collect()
}

/// All expanded items of a mailbox in `[from, to)`, by start then id.
pub fn window(mailbox: &Mailbox, from: Timestamp, to: Timestamp) -> Vec<InstanceRef> {
    let mut out: Vec<InstanceRef> = mailbox
        .events
        .values()
        .flat_map(|ev| event_instances(ev, from, to))
        .collect();
    out.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.id.cmp(&b.id)));
    out
}

/// Renders an instance.
pub fn render_instance(
    mailbox: &Mailbox,
    event_id: &str,
    date: Option<Date>,
    opts: &RenderOptions,
) -> Option<Map<String, Value>> {
    let ev = mailbox.events.get(event_id)?;
    match date {
        Some(d) if ev.has_occurrence(d) => Some(render::occurrence(ev, d, opts)),
        Some(_) => None,
        // A single that became a series is no longer an instance of any view.
        None if ev.recurrence.is_some() => None,
        None => Some(render::event(ev, opts)),
    }
}

/// Renders an instance found by [`window`] or [`event_instances`] (already known to exist).
pub fn render_ref(
    mailbox: &Mailbox,
    item: &InstanceRef,
    opts: &RenderOptions,
) -> Option<Map<String, Value>> {
    let ev = mailbox.events.get(&item.event_id)?;
    Some(match item.date {
        Some(d) => render::occurrence(ev, d, opts),
        None => render::event(ev, opts),
    })
}

/// Parses and checks a `startDateTime`/`endDateTime` pair.
pub fn window_params(query: &[(String, String)]) -> Result<(Timestamp, Timestamp), GraphError> {
    let (Some(start), Some(end)) = (param(query, "startDateTime"), param(query, "endDateTime"))
    else {
        return Err(GraphError::invalid_request(
            "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.",
        ));
    };
    let from = timezones::parse_bound(start).ok_or_else(|| {
        GraphError::invalid_request(format!(
            "startDateTime is not a valid date-time: '{start}'."
        ))
    })?;
    let to = timezones::parse_bound(end).ok_or_else(|| {
        GraphError::invalid_request(format!("endDateTime is not a valid date-time: '{end}'."))
    })?;
    if from.duration_until(to) > SignedDuration::from_hours(24 * MAX_WINDOW_DAYS) {
        return Err(GraphError::invalid_request(format!(
            "Your request can't be completed. The range between the start and end dates is greater than the allowed range. Maximum number of days: {MAX_WINDOW_DAYS}"
        )));
    }
    Ok((from, to))
}

/// `$select`: keeps only the named properties (plus `id` and `@odata.etag`).
pub fn select(mut item: Map<String, Value>, query: &[(String, String)]) -> Map<String, Value> {
    if let Some(list) = param(query, "$select") {
        let wanted: Vec<&str> = list.split(',').map(str::trim).collect();
        item.retain(|k, _| {
            k == "id" || k == "@odata.etag" || wanted.iter().any(|w| w.eq_ignore_ascii_case(k))
        });
    }
    item
}

/// Pages a list: `$top` (or `Prefer: odata.maxpagesize`), `$skip`, and a nextLink carrying the other parameters.
pub fn page(
    items: Vec<Value>,
    query: &[(String, String)],
    max_page_size: Option<usize>,
    link_base: &str,
    context: String,
) -> Result<Value, GraphError> {
    let top = match param(query, "$top") {
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| GraphError::invalid_request(format!("$top is not a number: '{t}'.")))?,
        None => max_page_size.unwrap_or(DEFAULT_PAGE),
    }
    .clamp(1, 1000);
    let skip = match param(query, "$skip") {
        Some(s) => s
            .parse::<usize>()
            .map_err(|_| GraphError::invalid_request(format!("$skip is not a number: '{s}'.")))?,
        None => 0,
    };
    let total = items.len();
    let value: Vec<Value> = items.into_iter().skip(skip).take(top).collect();
    let mut out = json!({"@odata.context": context, "value": value});
    if skip + top < total {
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in query {
            let bare = k.trim_start_matches('$');
            if !bare.eq_ignore_ascii_case("skip") && !bare.eq_ignore_ascii_case("top") {
                serializer.append_pair(k, v);
            }
        }
        serializer.append_pair("$top", &top.to_string());
        serializer.append_pair("$skip", &(skip + top).to_string());
        out["@odata.nextLink"] = json!(format!("{link_base}?{}", serializer.finish()));
    }
    Ok(out)
}

/// `$filter=<property> eq '<value>'` on rendered events (enough for `iCalUId` and `transactionId` look-ups).
pub fn filter(
    items: Vec<Map<String, Value>>,
    query: &[(String, String)],
) -> Result<Vec<Map<String, Value>>, GraphError> {
    let Some(expr) = param(query, "$filter") else {
        return Ok(items);
    };
    let unsupported = || {
        GraphError::invalid_request(format!(
            "The emulator supports only $filter=<property> eq '<value>' on string properties, got '{expr}'."
        ))
    };
    let mut parts = expr.splitn(3, ' ');
    let (Some(name), Some(op), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(unsupported());
    };
    if !op.eq_ignore_ascii_case("eq") {
        return Err(unsupported());
    }
    let value = value.trim();
    let value = value
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .ok_or_else(unsupported)?
        .replace("''", "'");
    Ok(items
        .into_iter()
        .filter(|item| {
            item.iter()
                .any(|(k, v)| k.eq_ignore_ascii_case(name) && v.as_str() == Some(value.as_str()))
        })
        .collect())
}

/// Where a delta request stands.
pub enum DeltaCall<'a> {
    /// First call of a round: the window.
    Start(Timestamp, Timestamp),
    /// `$deltatoken=...`.
    Delta(&'a str),
    /// `$skiptoken=...`.
    Skip(&'a str),
}

fn sync_state_not_found() -> GraphError {
    GraphError::new(
        410,
        "SyncStateNotFound",
        "The sync state generation is not found; the delta or skip token has expired.",
    )
}

fn snapshot(items: &[InstanceRef]) -> HashMap<String, String> {
    items
        .iter()
        .map(|i| (i.id.clone(), i.change_key.clone()))
        .collect()
}

fn outside(mailbox: &Mailbox, current: &[InstanceRef]) -> HashMap<String, String> {
    let inside: std::collections::HashSet<&str> =
        current.iter().map(|i| i.event_id.as_str()).collect();
    mailbox
        .events
        .values()
        .filter(|ev| !inside.contains(ev.id.as_str()))
        .map(|ev| (ev.id.clone(), ev.change_key.clone()))
        .collect()
}

/// Serves one page of calendarView delta. `link_base` is the request URL without query.
pub fn delta(
    mailbox: &mut Mailbox,
    call: DeltaCall<'_>,
    page_size: usize,
    quirks: DeltaQuirks,
    opts: &RenderOptions,
    link_base: &str,
    origin: &str,
) -> Result<Value, GraphError> {
    let fresh = !matches!(call, DeltaCall::Skip(_));
    let state = match call {
        DeltaCall::Start(from, to) => {
            let current = window(mailbox, from, to);
            PageState {
                items: current
                    .iter()
                    .map(|i| Pending::Upsert(i.id.clone()))
                    .collect(),
                round: DeltaToken {
                    from,
                    to,
                    snapshot: snapshot(&current),
                    outside: outside(mailbox, &current),
                    sent: current
                        .iter()
                        .map(|i| Pending::Upsert(i.id.clone()))
                        .collect(),
                },
                offset: 0,
            }
        }
        DeltaCall::Delta(token) => {
            let previous = mailbox
                .delta
                .tokens
                .iter()
                .find(|(t, _)| t == token)
                .map(|(_, s)| s.clone())
                .ok_or_else(|| mailbox.delta.gone(token, link_base))?;
            let current = window(mailbox, previous.from, previous.to);
            let mut items: Vec<Pending> = current
                .iter()
                .filter(|i| previous.snapshot.get(&i.id) != Some(&i.change_key))
                .map(|i| Pending::Upsert(i.id.clone()))
                .collect();
            let now = snapshot(&current);
            let mut gone: Vec<&String> = previous
                .snapshot
                .keys()
                .filter(|id| !now.contains_key(*id))
                .collect();
            gone.sort();
            items.extend(gone.into_iter().map(|id| Pending::Removed(id.clone())));
            let now_outside = outside(mailbox, &current);
            if quirks.removed_outside_window {
                let mut touched: Vec<&String> = now_outside
                    .iter()
                    .filter(|(id, ck)| previous.outside.get(*id) != Some(*ck))
                    .map(|(id, _)| id)
                    .chain(
                        previous
                            .outside
                            .keys()
                            .filter(|id| !mailbox.events.contains_key(*id)),
                    )
                    .collect();
                touched.sort();
                items.extend(touched.into_iter().map(|id| Pending::Removed(id.clone())));
            }
            let sent = items.clone();
            if quirks.replays {
                // Graph replays: what the last round sent comes again, in its current state.
                let replayed: Vec<Pending> = previous
                    .sent
                    .iter()
                    .map(|p| match p {
                        Pending::Upsert(id) | Pending::Removed(id) if now.contains_key(id) => {
                            Pending::Upsert(id.clone())
                        }
                        Pending::Upsert(id) | Pending::Removed(id) => Pending::Removed(id.clone()),
                    })
                    .filter(|p| !items.contains(p))
                    .collect();
                items.extend(replayed);
            }
            PageState {
                round: DeltaToken {
                    from: previous.from,
                    to: previous.to,
                    snapshot: now,
                    outside: now_outside,
                    sent,
                },
                items,
                offset: 0,
            }
        }
        DeltaCall::Skip(token) => mailbox
            .delta
            .pages
            .iter()
            .find(|(t, _)| t == token)
            .map(|(_, s)| s.clone())
            .ok_or_else(|| mailbox.delta.gone(token, link_base))?,
    };
    let context = format!("{origin}/v1.0/$metadata#Collection(event)");
    if fresh && quirks.empty_pages {
        let token = crate::ids::token();
        let out = json!({"@odata.context": context, "value": [], "@odata.nextLink": format!("{link_base}?$skiptoken={token}")});
        push_bounded(&mut mailbox.delta.pages, token, state);
        return Ok(out);
    }
    let end = (state.offset + page_size).min(state.items.len());
    let mut value = Vec::new();
    for pending in &state.items[state.offset..end] {
        let removed = |id: &str| json!({"@odata.type": "#microsoft.graph.event", "id": id, "@removed": {"reason": "deleted"}});
        match pending {
            Pending::Removed(id) => value.push(removed(id)),
            Pending::Upsert(id) => {
                let rendered = match crate::ids::parse_id(id) {
                    Some(crate::ids::ParsedId::Item(item)) => {
                        render_instance(mailbox, &item, None, opts)
                    }
                    Some(crate::ids::ParsedId::Occurrence(master, date)) => {
                        render_instance(mailbox, &master, Some(date), opts)
                    }
                    None => None,
                };
                match rendered {
                    Some(mut item) => {
                        item.insert("@odata.type".into(), json!("#microsoft.graph.event"));
                        value.push(Value::Object(item));
                    }
                    // Deleted between pages.
                    None => value.push(removed(id)),
                }
            }
        }
    }
    let mut out = json!({"@odata.context": context, "value": value});
    let token = crate::ids::token();
    if end < state.items.len() {
        out["@odata.nextLink"] = json!(format!("{link_base}?$skiptoken={token}"));
        push_bounded(
            &mut mailbox.delta.pages,
            token,
            PageState {
                offset: end,
                ..state
            },
        );
    } else {
        out["@odata.deltaLink"] = json!(format!("{link_base}?$deltatoken={token}"));
        push_bounded(&mut mailbox.delta.tokens, token, state.round);
    }
    Ok(out)
}

fn push_bounded<T>(list: &mut VecDeque<(String, T)>, token: String, state: T) {
    list.push_back((token, state));
    while list.len() > TOKENS_KEPT {
        list.pop_front();
    }
}
