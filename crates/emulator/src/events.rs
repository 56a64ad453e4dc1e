//! Writes on events: create, update, delete, actions; meeting mail and the copies in attendee mailboxes.

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::civil::Date;
use serde_json::{Map, Value, json};

use crate::errors::GraphError;
use crate::ids::{self, ParsedId};
use crate::mail::{self, MailContext, MailKind};
use crate::properties::{self, Editable, MEETING_FIELDS, Mode, get_ci};
use crate::store::{Event, Exception, Links, When, World};

/// Options of a write.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    /// Record the mails Outlook would send (false for seeding).
    pub send_mail: bool,
}

fn mailbox_address(world: &World, key: &str) -> String {
    world
        .mailboxes
        .get(key)
        .map(|m| m.address.clone())
        .unwrap_or_else(|| key.to_owned())
}

fn event_ref<'a>(world: &'a World, key: &str, id: &str) -> Result<&'a Event, GraphError> {
    world
        .mailboxes
        .get(key)
        .and_then(|m| m.events.get(id))
        .ok_or_else(GraphError::not_found)
}

fn event_mut<'a>(world: &'a mut World, key: &str, id: &str) -> Result<&'a mut Event, GraphError> {
    world
        .mailboxes
        .get_mut(key)
        .and_then(|m| m.events.get_mut(id))
        .ok_or_else(GraphError::not_found)
}

/// Resolves an id of this mailbox: a single/master, or an existing occurrence of a master.
pub fn resolve(world: &World, key: &str, id: &str) -> Result<ParsedId, GraphError> {
    let parsed = ids::parse_id(id).ok_or_else(|| {
        if ids::looks_like_id(id) {
            GraphError::not_found()
        } else {
            GraphError::malformed_id()
        }
    })?;
    match &parsed {
        ParsedId::Item(item) => {
            event_ref(world, key, item)?;
        }
        ParsedId::Occurrence(master, date) => {
            let ev = event_ref(world, key, master)?;
            if !ev.has_occurrence(*date) {
                return Err(GraphError::not_found());
            }
        }
    }
    Ok(parsed)
}

fn check_if_match(if_match: Option<&str>, current: &str) -> Result<(), GraphError> {
    let Some(header) = if_match else {
        return Ok(());
    };
    let ok = header.split(',').map(str::trim).any(|tag| {
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        tag == "*" || tag.trim_matches('"') == current
    });
    if ok {
        Ok(())
    } else {
        Err(GraphError::new(
            412,
            "ErrorIrresolvableConflict",
            "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.",
        ))
    }
}

fn editable(ev: &Event) -> Editable {
    Editable {
        fields: ev.fields.clone(),
        start: Some(ev.start.clone()),
        end: Some(ev.end.clone()),
        is_all_day: ev.is_all_day,
        recurrence: ev.recurrence.clone(),
        recurrence_given: false,
        transaction_id: ev.transaction_id.clone(),
    }
}

fn filetime(now: Timestamp) -> u64 {
    // Windows FILETIME: 100 ns ticks since 1601-01-01.
    let ticks = (now.as_nanosecond() / 100) + 116_444_736_000_000_000;
    u64::try_from(ticks).unwrap_or(0)
}

/// The start date of a series in its recurrence zone, which `range.startDate` must equal.
fn check_series_start(ed: &Editable, start: &When) -> Result<(), GraphError> {
    let Some(rec) = &ed.recurrence else {
        return Ok(());
    };
    let zone = match &rec.time_zone {
        Some(name) => crate::timezones::resolve(name)?,
        None => start.zone.clone(),
    };
    let date = if ed.is_all_day {
        start.local.date()
    } else {
        zone.local(start.instant()).date()
    };
    if rec.start_date != date {
        return Err(GraphError::invalid_request(format!(
            "recurrence.range.startDate ({}) must be the date of the event start ({date}).",
            rec.start_date
        )));
    }
    Ok(())
}

/// `POST /me/events`: creates an event organised by the mailbox owner; returns its id.
pub fn create(
    world: &mut World,
    key: &str,
    body: &Value,
    opts: WriteOptions,
) -> Result<String, GraphError> {
    let obj = body
        .as_object()
        .ok_or_else(|| GraphError::body_read("The request body must be a JSON object."))?;
    let mut ed = properties::defaults();
    properties::apply(&mut ed, obj, Mode::Create)?;
    let (start, end) = properties::validate_times(&ed)?;
    check_series_start(&ed, &start)?;
    let mailbox = world.mailboxes.get(key).ok_or_else(GraphError::not_found)?;
    if let Some(tx) = &ed.transaction_id
        && mailbox.transactions.contains_key(tx)
    {
        return Err(GraphError::invalid_request(
            "Your request can't be completed. The TransactionId specified in the request has already been used to create a different event.",
        )
        .with_code("ErrorDuplicateTransactionId"));
    }
    let organizer = json!({"name": mailbox.display_name, "address": mailbox.address});
    let now = Timestamp::now();
    let seq = world.next_seq();
    let ev = Event {
        id: ids::new_event_id(),
        seq,
        ical_uid: ids::new_ical_uid(filetime(now)),
        change_key: ids::new_change_key(),
        series_key: ids::new_change_key(),
        created: now,
        modified: now,
        transaction_id: ed.transaction_id.clone(),
        start,
        end,
        is_all_day: ed.is_all_day,
        recurrence: ed.recurrence.clone(),
        fields: ed.fields,
        organizer,
        is_organizer: true,
        is_cancelled: false,
        response: ("organizer".to_owned(), None),
        exceptions: Default::default(),
        cancelled: BTreeSet::new(),
        links: Links::default(),
        rotate_at: rotation_time(world, now),
    };
    let id = ev.id.clone();
    if opts.send_mail {
        let to = mail::recipients(&ev.attendees(), &mailbox_address(world, key));
        mail::send(
            world,
            MailKind::Invitation,
            &mail_context(world, key, &ev, None),
            &to,
            None,
        );
    }
    let mailbox = world
        .mailboxes
        .get_mut(key)
        .ok_or_else(GraphError::not_found)?;
    if let Some(tx) = &ev.transaction_id {
        mailbox.transactions.insert(tx.clone(), id.clone());
    }
    mailbox.events.insert(id.clone(), ev);
    sync_copies(world, key, &id);
    Ok(id)
}

/// When a new event's change key rotates by itself, if that quirk is on.
fn rotation_time(world: &World, now: Timestamp) -> Option<Timestamp> {
    let ms = i64::try_from(world.config.change_key_rotation_ms)
        .ok()
        .filter(|ms| *ms > 0)?;
    now.checked_add(jiff::SignedDuration::from_millis(ms)).ok()
}

fn mail_context(world: &World, key: &str, ev: &Event, date: Option<Date>) -> MailContext {
    let (event_id, ical_uid) = match date {
        Some(d) => (
            ids::occurrence_id(&ev.id, d).unwrap_or_default(),
            ids::occurrence_ical_uid(&ev.ical_uid, d),
        ),
        None => (ev.id.clone(), ev.ical_uid.clone()),
    };
    let subject = match date
        .and_then(|d| ev.exceptions.get(&d))
        .and_then(|e| e.fields.get("subject"))
    {
        Some(s) => s.as_str().unwrap_or("").to_owned(),
        None => ev
            .fields
            .get("subject")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
    };
    MailContext {
        from: ev.organizer["address"].as_str().unwrap_or("").to_owned(),
        subject,
        mailbox: mailbox_address(world, key),
        event_id,
        ical_uid,
    }
}

/// The mails of an organiser's update: invitations to added attendees, cancellations to removed ones, and an
/// update to the remaining ones when a meeting field changed.
fn mail_update(
    world: &mut World,
    ctx: &MailContext,
    before: &[Value],
    after: &[Value],
    meeting_changed: bool,
) {
    let old = mail::recipients(before, &ctx.from);
    let new = mail::recipients(after, &ctx.from);
    let has = |list: &[String], a: &str| list.iter().any(|x| x.eq_ignore_ascii_case(a));
    let added: Vec<String> = new.iter().filter(|a| !has(&old, a)).cloned().collect();
    let removed: Vec<String> = old.iter().filter(|a| !has(&new, a)).cloned().collect();
    let kept: Vec<String> = new.iter().filter(|a| has(&old, a)).cloned().collect();
    mail::send(world, MailKind::Invitation, ctx, &added, None);
    mail::send(world, MailKind::Cancellation, ctx, &removed, None);
    if meeting_changed {
        mail::send(world, MailKind::Update, ctx, &kept, None);
    }
}

fn meeting_fields_changed(before: &Editable, after: &Editable) -> bool {
    let field_changed = MEETING_FIELDS
        .iter()
        .any(|k| before.fields.get(*k) != after.fields.get(*k));
    let instant = |w: &Option<When>| w.as_ref().map(|w| (w.instant(), w.local));
    field_changed
        || instant(&before.start) != instant(&after.start)
        || instant(&before.end) != instant(&after.end)
        || before.is_all_day != after.is_all_day
        || before.recurrence != after.recurrence
}

/// `PATCH /me/events/{id}` (a single event, a master, or an occurrence which becomes an exception).
pub fn update(
    world: &mut World,
    key: &str,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
    opts: WriteOptions,
) -> Result<(), GraphError> {
    let obj = body
        .as_object()
        .ok_or_else(|| GraphError::body_read("The request body must be a JSON object."))?;
    match resolve(world, key, id)? {
        ParsedId::Item(item) => update_item(world, key, &item, obj, if_match, opts),
        ParsedId::Occurrence(master, date) => {
            update_occurrence(world, key, &master, date, obj, if_match, opts)
        }
    }
}

fn update_item(
    world: &mut World,
    key: &str,
    id: &str,
    obj: &Map<String, Value>,
    if_match: Option<&str>,
    opts: WriteOptions,
) -> Result<(), GraphError> {
    let ev = event_ref(world, key, id)?.clone();
    check_if_match(if_match, &ev.change_key)?;
    let before = editable(&ev);
    let mut ed = before.clone();
    properties::apply(&mut ed, obj, Mode::Update)?;
    let (start, end) = properties::validate_times(&ed)?;
    let series_reshaped = before.recurrence != ed.recurrence
        || before.start.as_ref().map(When::instant) != Some(start.instant())
        || before.end.as_ref().map(When::instant) != Some(end.instant())
        || before.is_all_day != ed.is_all_day;
    // A moved series keeps its pattern: move the range start with it unless the body set the recurrence.
    if !ed.recurrence_given
        && let Some(rec) = ed.recurrence.as_mut()
    {
        let zone = match &rec.time_zone {
            Some(name) => crate::timezones::resolve(name)?,
            None => start.zone.clone(),
        };
        rec.start_date = if ed.is_all_day {
            start.local.date()
        } else {
            zone.local(start.instant()).date()
        };
    }
    check_series_start(&ed, &start)?;
    let meeting_changed = meeting_fields_changed(&before, &ed);
    let now = Timestamp::now();
    let mut updated = ev.clone();
    updated.fields = ed.fields.clone();
    updated.start = start;
    updated.end = end;
    updated.is_all_day = ed.is_all_day;
    updated.recurrence = ed.recurrence.clone();
    updated.change_key = ids::new_change_key();
    updated.series_key = ids::new_change_key();
    updated.modified = now;
    if series_reshaped {
        // Outlook drops edited and deleted occurrences when a series' pattern or times change.
        updated.exceptions.clear();
        updated.cancelled.clear();
    }
    if opts.send_mail && ev.is_organizer && !ev.is_cancelled {
        let ctx = mail_context(world, key, &updated, None);
        mail_update(
            world,
            &ctx,
            &ev.attendees(),
            &updated.attendees(),
            meeting_changed,
        );
    }
    *event_mut(world, key, id)? = updated;
    if ev.is_organizer {
        sync_copies(world, key, id);
    }
    Ok(())
}

fn update_occurrence(
    world: &mut World,
    key: &str,
    master_id: &str,
    date: Date,
    obj: &Map<String, Value>,
    if_match: Option<&str>,
    opts: WriteOptions,
) -> Result<(), GraphError> {
    let master = event_ref(world, key, master_id)?.clone();
    check_if_match(if_match, &master.occurrence_change_key(date))?;
    let (original_start, original_end) = master.occurrence_times(date);
    let existing = master.exceptions.get(&date);
    let mut fields = master.fields.clone();
    if let Some(exc) = existing {
        fields.extend(exc.fields.clone());
    }
    let before = Editable {
        fields,
        start: Some(existing.map_or(original_start.clone(), |e| e.start.clone())),
        end: Some(existing.map_or(original_end, |e| e.end.clone())),
        is_all_day: master.is_all_day,
        recurrence: None,
        recurrence_given: false,
        transaction_id: master.transaction_id.clone(),
    };
    let mut ed = before.clone();
    properties::apply(&mut ed, obj, Mode::Occurrence)?;
    let (start, end) = properties::validate_times(&ed)?;
    check_crossing(&master, date, &start)?;
    let meeting_changed = meeting_fields_changed(&before, &ed);
    let overrides: Map<String, Value> = ed
        .fields
        .iter()
        .filter(|(k, v)| master.fields.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let now = Timestamp::now();
    let mut updated = master.clone();
    updated.exceptions.insert(
        date,
        Exception {
            change_key: ids::new_change_key(),
            start,
            end,
            fields: overrides,
            modified: now,
        },
    );
    updated.change_key = ids::new_change_key();
    updated.modified = now;
    if opts.send_mail && master.is_organizer && !master.is_cancelled {
        let ctx = mail_context(world, key, &updated, Some(date));
        let before_attendees = before
            .fields
            .get("attendees")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let after_attendees = ed
            .fields
            .get("attendees")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        mail_update(
            world,
            &ctx,
            &before_attendees,
            &after_attendees,
            meeting_changed,
        );
    }
    *event_mut(world, key, master_id)? = updated;
    if master.is_organizer {
        sync_copies(world, key, master_id);
    }
    Ok(())
}

/// An occurrence may not move onto or past the day of its neighbours (`ErrorOccurrenceCrossingBoundary`).
fn check_crossing(master: &Event, date: Date, start: &When) -> Result<(), GraphError> {
    let Some(rec) = &master.recurrence else {
        return Ok(());
    };
    let zone = master.series_zone();
    let new_date = if master.is_all_day {
        start.local.date()
    } else {
        zone.local(start.instant()).date()
    };
    let horizon = new_date
        .max(date)
        .checked_add(jiff::Span::new().days(400))
        .unwrap_or(date);
    let dates = rec.dates_until(horizon);
    let pos = dates.iter().position(|d| *d == date);
    let prev = pos
        .and_then(|p| p.checked_sub(1))
        .and_then(|p| dates.get(p));
    let next = pos.and_then(|p| dates.get(p + 1));
    let crosses = prev.is_some_and(|p| new_date <= *p) || next.is_some_and(|n| new_date >= *n);
    if crosses {
        return Err(GraphError::new(
            400,
            "ErrorOccurrenceCrossingBoundary",
            "Modified occurrence is crossing or overlapping adjacent occurrence.",
        ));
    }
    Ok(())
}

/// `DELETE /me/events/{id}` (an occurrence id cancels that occurrence).
pub fn delete(
    world: &mut World,
    key: &str,
    id: &str,
    if_match: Option<&str>,
    opts: WriteOptions,
) -> Result<(), GraphError> {
    match resolve(world, key, id)? {
        ParsedId::Item(item) => {
            let ev = event_ref(world, key, &item)?.clone();
            check_if_match(if_match, &ev.change_key)?;
            if opts.send_mail && ev.is_organizer && !ev.is_cancelled {
                let ctx = mail_context(world, key, &ev, None);
                let to = mail::recipients(&ev.attendees(), &ctx.from);
                mail::send(world, MailKind::Cancellation, &ctx, &to, None);
            }
            if let Some(mailbox) = world.mailboxes.get_mut(key) {
                mailbox.events.remove(&item);
            }
            if ev.is_organizer {
                cancel_copies(world, &ev);
            } else if let Some((org_key, org_id)) = &ev.links.organizer
                && let Ok(org) = event_mut(world, org_key, org_id)
            {
                org.links.copies.remove(key);
            }
            Ok(())
        }
        ParsedId::Occurrence(master_id, date) => {
            let master = event_ref(world, key, &master_id)?.clone();
            check_if_match(if_match, &master.occurrence_change_key(date))?;
            if opts.send_mail && master.is_organizer && !master.is_cancelled {
                let ctx = mail_context(world, key, &master, Some(date));
                let attendees = match master
                    .exceptions
                    .get(&date)
                    .and_then(|e| e.fields.get("attendees"))
                {
                    Some(Value::Array(list)) => list.clone(),
                    _ => master.attendees(),
                };
                let to = mail::recipients(&attendees, &ctx.from);
                mail::send(world, MailKind::Cancellation, &ctx, &to, None);
            }
            let ev = event_mut(world, key, &master_id)?;
            ev.cancelled.insert(date);
            ev.exceptions.remove(&date);
            ev.change_key = ids::new_change_key();
            ev.modified = Timestamp::now();
            if master.is_organizer {
                sync_copies(world, key, &master_id);
            }
            Ok(())
        }
    }
}

fn param_bool(params: &Map<String, Value>, name: &str, default: bool) -> Result<bool, GraphError> {
    match get_ci(params, name) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(GraphError::body_read(format!(
            "Parameter '{name}' must be a boolean, got {other}."
        ))),
    }
}

/// `POST /me/events/{id}/{action}` for cancel, accept, decline and tentativelyAccept.
pub fn action(
    world: &mut World,
    key: &str,
    id: &str,
    action: &str,
    body: &Value,
) -> Result<(), GraphError> {
    let empty = Map::new();
    let params = match body {
        Value::Object(map) => map,
        Value::Null => &empty,
        _ => {
            return Err(GraphError::body_read(
                "The request body must be a JSON object.",
            ));
        }
    };
    let parsed = resolve(world, key, id)?;
    let item_id = match &parsed {
        ParsedId::Item(item) => item.clone(),
        ParsedId::Occurrence(master, _) => master.clone(),
    };
    let ev = event_ref(world, key, &item_id)?.clone();
    let response = match action.to_ascii_lowercase().as_str() {
        "cancel" => {
            if !ev.is_organizer {
                return Err(GraphError::invalid_request(
                    "Your request can't be completed. You need to be an organizer to cancel a meeting.",
                ));
            }
            return delete(world, key, id, None, WriteOptions { send_mail: true });
        }
        "forward" => return forward(world, key, &ev, params),
        "accept" => "accepted",
        "decline" => "declined",
        "tentativelyaccept" => "tentativelyAccepted",
        _ => {
            return Err(GraphError::new(
                400,
                "BadRequest",
                format!("Resource not found for the segment '{action}'."),
            ));
        }
    };
    if ev.is_organizer {
        return Err(GraphError::invalid_request(
            "Your request can't be completed. You can't respond to a meeting you organized.",
        ));
    }
    let send_response = param_bool(params, "sendResponse", true)?;
    let proposes = get_ci(params, "proposedNewTime").is_some_and(|v| !v.is_null());
    let allows = ev
        .fields
        .get("allowNewTimeProposals")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if proposes && (!send_response || !allows || response == "accepted") {
        return Err(GraphError::invalid_request(
            "Your request can't be completed. proposedNewTime needs sendResponse true and an event that allows new time proposals.",
        ));
    }
    let now = Timestamp::now();
    let address = mailbox_address(world, key);
    {
        let copy = event_mut(world, key, &item_id)?;
        copy.response = (response.to_owned(), Some(now));
        copy.change_key = ids::new_change_key();
        copy.series_key = ids::new_change_key();
        copy.modified = now;
    }
    if let Some((org_key, org_id)) = &ev.links.organizer
        && let Ok(org) = event_mut(world, org_key, org_id)
    {
        let mut changed = false;
        if let Some(Value::Array(list)) = org.fields.get_mut("attendees") {
            for attendee in list.iter_mut() {
                let matches = attendee
                    .pointer("/emailAddress/address")
                    .and_then(Value::as_str)
                    .is_some_and(|a| a.eq_ignore_ascii_case(&address));
                if matches {
                    attendee["status"] = json!({"response": response, "time": now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()});
                    changed = true;
                }
            }
        }
        if changed {
            org.change_key = ids::new_change_key();
            org.series_key = ids::new_change_key();
            org.modified = now;
        }
    }
    if send_response {
        let date = match parsed {
            ParsedId::Occurrence(_, d) => Some(d),
            ParsedId::Item(_) => None,
        };
        let mut ctx = mail_context(world, key, &ev, date);
        let organizer = ctx.from.clone();
        ctx.from = address;
        if !organizer.is_empty() {
            mail::send(
                world,
                MailKind::Response,
                &ctx,
                &[organizer],
                Some(response),
            );
        }
    }
    Ok(())
}

/// `forward`: the meeting request goes to the new recipients as an invitation from the forwarding mailbox.
fn forward(
    world: &mut World,
    key: &str,
    ev: &Event,
    params: &Map<String, Value>,
) -> Result<(), GraphError> {
    let recipients = get_ci(params, "toRecipients")
        .and_then(Value::as_array)
        .filter(|list| !list.is_empty())
        .ok_or_else(|| {
            GraphError::invalid_request("forward needs a non-empty ToRecipients list.")
        })?;
    let mut to = Vec::with_capacity(recipients.len());
    for (i, recipient) in recipients.iter().enumerate() {
        let field = format!("ToRecipients[{i}]");
        let email = recipient
            .as_object()
            .and_then(|r| get_ci(r, "emailAddress"))
            .ok_or_else(|| {
                GraphError::invalid_request(format!("{field}.EmailAddress is required."))
            })?;
        let email = properties::email_address(email, &format!("{field}.EmailAddress"))?;
        match email["address"].as_str() {
            Some(address) if !address.is_empty() => to.push(address.to_owned()),
            _ => {
                return Err(GraphError::invalid_request(format!(
                    "{field}.EmailAddress.Address is required."
                )));
            }
        }
    }
    let mut ctx = mail_context(world, key, ev, None);
    ctx.from = mailbox_address(world, key);
    mail::send(world, MailKind::Invitation, &ctx, &to, None);
    Ok(())
}

/// Makes the attendee copies of an organiser's event match it: creates copies in hosted attendee mailboxes,
/// updates existing ones, and marks copies of removed attendees cancelled.
pub fn sync_copies(world: &mut World, org_key: &str, id: &str) {
    let Ok(org) = event_ref(world, org_key, id).cloned() else {
        return;
    };
    let org_address = org.organizer["address"].as_str().unwrap_or("").to_owned();
    let hosted: Vec<String> = mail::recipients(&org.attendees(), &org_address)
        .into_iter()
        .map(|a| a.to_ascii_lowercase())
        .filter(|a| a != org_key && world.mailboxes.contains_key(a))
        .collect();
    let mut links = org.links.copies.clone();
    for attendee_key in &hosted {
        let existing = links
            .get(attendee_key)
            .cloned()
            .filter(|cid| event_ref(world, attendee_key, cid).is_ok());
        match existing {
            Some(copy_id) => {
                if let Ok(copy) = event_mut(world, attendee_key, &copy_id) {
                    refresh_copy(copy, &org);
                }
            }
            None => {
                let seq = world.next_seq();
                let copy = new_copy(&org, org_key, seq);
                links.insert(attendee_key.clone(), copy.id.clone());
                if let Some(mailbox) = world.mailboxes.get_mut(attendee_key) {
                    mailbox.events.insert(copy.id.clone(), copy);
                }
            }
        }
    }
    let removed: Vec<(String, String)> = links
        .iter()
        .filter(|(k, _)| !hosted.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (attendee_key, copy_id) in removed {
        if let Ok(copy) = event_mut(world, &attendee_key, &copy_id) {
            mark_cancelled(copy);
        }
        links.remove(&attendee_key);
    }
    if let Ok(org) = event_mut(world, org_key, id) {
        org.links.copies = links;
    }
}

fn cancel_copies(world: &mut World, org: &Event) {
    for (attendee_key, copy_id) in &org.links.copies {
        if let Ok(copy) = event_mut(world, attendee_key, copy_id) {
            mark_cancelled(copy);
        }
    }
}

fn mark_cancelled(copy: &mut Event) {
    if !copy.is_cancelled {
        copy.is_cancelled = true;
        copy.change_key = ids::new_change_key();
        copy.series_key = ids::new_change_key();
        copy.modified = Timestamp::now();
    }
}

/// Properties that belong to each attendee's own copy and do not follow the organiser.
const PERSONAL: &[&str] = &[
    "categories",
    "isReminderOn",
    "reminderMinutesBeforeStart",
    "showAs",
];

fn refresh_copy(copy: &mut Event, org: &Event) {
    let mut fields = org.fields.clone();
    for key in PERSONAL {
        if let Some(v) = copy.fields.get(*key) {
            fields.insert((*key).to_owned(), v.clone());
        }
    }
    copy.fields = fields;
    copy.start = org.start.clone();
    copy.end = org.end.clone();
    copy.is_all_day = org.is_all_day;
    copy.recurrence = org.recurrence.clone();
    copy.exceptions = org.exceptions.clone();
    copy.cancelled = org.cancelled.clone();
    copy.is_cancelled = org.is_cancelled;
    copy.change_key = ids::new_change_key();
    copy.series_key = ids::new_change_key();
    copy.modified = Timestamp::now();
}

fn new_copy(org: &Event, org_key: &str, seq: u64) -> Event {
    let now = Timestamp::now();
    let mut copy = org.clone();
    copy.id = ids::new_event_id();
    copy.seq = seq;
    copy.change_key = ids::new_change_key();
    copy.series_key = ids::new_change_key();
    copy.created = now;
    copy.modified = now;
    copy.transaction_id = None;
    copy.is_organizer = false;
    copy.response = ("none".to_owned(), None);
    copy.fields.insert("categories".into(), json!([]));
    copy.fields.insert("showAs".into(), json!("tentative"));
    copy.rotate_at = None;
    copy.links = Links {
        organizer: Some((org_key.to_owned(), org.id.clone())),
        copies: Default::default(),
    };
    copy
}
