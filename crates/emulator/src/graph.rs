//! Graph requests: routing, authentication, faults, limits, service time, and the handlers of each route.
//! Plain requests and `$batch` items go through the same path.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::errors::GraphError;
use crate::events::{self, WriteOptions};
use crate::notify;
use crate::prefer::Prefs;
use crate::render::{self, RenderOptions};
use crate::server::Emulator;
use crate::store::{FaultKind, World};

/// The largest delta page: a larger `odata.maxpagesize` is capped. Microsoft documents no maximum
/// for calendarView delta; for Outlook-item deltas (contacts) it says 200, and that the cap applies
/// silently (learn.microsoft.com/en-us/answers/a/2052165, 2025).
const DELTA_MAX_PAGE_SIZE: usize = 200;
use crate::subscriptions::SubscriptionRoute;
use crate::timezones;
use crate::views::{self, DeltaCall};

/// A Graph request, from HTTP or from a batch item.
#[derive(Debug, Clone)]
pub struct GraphRequest {
    /// Upper-case method.
    pub method: String,
    /// Path after `/v1.0`, starting with `/`.
    pub path: String,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// Headers with lower-case names.
    pub headers: Vec<(String, String)>,
    /// JSON body, if any.
    pub body: Option<Value>,
    /// `http://host:port` of this emulator, for links.
    pub origin: String,
    /// When the request (for a batch item: its batch) reached the server.
    pub arrived: std::time::Instant,
}

impl GraphRequest {
    /// The first header of that name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn prefs(&self) -> Prefs {
        Prefs::parse(
            self.headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("prefer"))
                .map(|(_, v)| v.as_str()),
        )
    }
}

/// A Graph response.
#[derive(Debug, Clone)]
pub struct GraphResponse {
    /// Status.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// JSON body, if any.
    pub body: Option<Value>,
}

impl GraphResponse {
    /// A JSON answer.
    pub fn json(status: u16, body: Value) -> GraphResponse {
        GraphResponse {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    /// An answer without a body.
    pub fn empty(status: u16) -> GraphResponse {
        GraphResponse {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    /// The response for an error.
    pub fn error(
        err: &GraphError,
        request_id: &str,
        client_request_id: Option<&str>,
    ) -> GraphResponse {
        GraphResponse {
            status: err.status,
            headers: err.headers.clone(),
            body: Some(err.body(request_id, client_request_id)),
        }
    }
}

/// What happens to a request's connection.
#[derive(Debug)]
pub enum Outcome {
    /// Answer normally.
    Respond(GraphResponse),
    /// Drop the connection without an answer (`reset` / `lose_response` faults).
    Drop,
}

#[derive(Debug, Clone, PartialEq)]
enum Route {
    Me,
    Calendars,
    Calendar,
    Events,
    Event(String),
    Instances(String),
    Action(String, String),
    CalendarView,
    Delta,
    SupportedTimeZones(bool),
    Subscription(SubscriptionRoute),
}

/// A routed path: the route, the counter template, the `/users/{x}` target and the `/calendars/{id}` named.
type Routed = (Route, String, Option<String>, Option<String>);

/// Routes a path (after `/v1.0`).
fn route(path: &str) -> Result<Routed, GraphError> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let unknown = |seg: &str| {
        GraphError::new(
            400,
            "BadRequest",
            format!("Resource not found for the segment '{seg}'."),
        )
    };
    if let Some(routed) = route_subscriptions(&segments) {
        return Ok(routed);
    }
    let (target, rest, mut template) = match segments.as_slice() {
        [me, rest @ ..] if me.eq_ignore_ascii_case("me") => (None, rest, "/v1.0/me".to_owned()),
        [users, who, rest @ ..] if users.eq_ignore_ascii_case("users") => {
            (Some((*who).to_owned()), rest, "/v1.0/users/{id}".to_owned())
        }
        [first, ..] => return Err(unknown(first)),
        [] => return Err(unknown("")),
    };
    let is = |s: &str, name: &str| s.eq_ignore_ascii_case(name);
    let mut calendar = None;
    let rest: &[&str] = match rest {
        [cal, tail @ ..] if is(cal, "calendar") && !tail.is_empty() => {
            template.push_str("/calendar");
            tail
        }
        [cals, id, tail @ ..] if is(cals, "calendars") && !tail.is_empty() => {
            template.push_str("/calendars/{id}");
            calendar = Some((*id).to_owned());
            tail
        }
        other => other,
    };
    let route = match rest {
        [] => Route::Me,
        [c] if is(c, "calendar") => {
            template.push_str("/calendar");
            Route::Calendar
        }
        [c] if is(c, "calendars") => {
            template.push_str("/calendars");
            Route::Calendars
        }
        [c, id] if is(c, "calendars") => {
            template.push_str("/calendars/{id}");
            calendar = Some((*id).to_owned());
            Route::Calendar
        }
        [e] if is(e, "events") => {
            template.push_str("/events");
            Route::Events
        }
        [e, id] if is(e, "events") => {
            template.push_str("/events/{id}");
            Route::Event((*id).to_owned())
        }
        [e, id, i] if is(e, "events") && is(i, "instances") => {
            template.push_str("/events/{id}/instances");
            Route::Instances((*id).to_owned())
        }
        [e, id, action] if is(e, "events") => {
            template.push_str(&format!("/events/{{id}}/{action}"));
            Route::Action((*id).to_owned(), (*action).to_owned())
        }
        [v] if is(v, "calendarView") => {
            template.push_str("/calendarView");
            Route::CalendarView
        }
        [v, d] if is(v, "calendarView") && is(d, "delta") => {
            template.push_str("/calendarView/delta");
            Route::Delta
        }
        [o, z] if is(o, "outlook") => {
            let iana = crate::timezones::supported_zones_standard(z).ok_or_else(|| unknown(z))?;
            template.push_str("/outlook/supportedTimeZones");
            Route::SupportedTimeZones(iana)
        }
        [first, ..] => return Err(unknown(first)),
    };
    Ok((route, template, target, calendar))
}

/// `/subscriptions`, `/subscriptions/{id}` and `/subscriptions/{id}/reauthorize`.
fn route_subscriptions(segments: &[&str]) -> Option<Routed> {
    let is = |s: &str, name: &str| s.eq_ignore_ascii_case(name);
    let (route, template) = match segments {
        [s] if is(s, "subscriptions") => (SubscriptionRoute::Collection, "/v1.0/subscriptions"),
        [s, id] if is(s, "subscriptions") => (
            SubscriptionRoute::Item((*id).to_owned()),
            "/v1.0/subscriptions/{id}",
        ),
        [s, id, r] if is(s, "subscriptions") && is(r, "reauthorize") => (
            SubscriptionRoute::Reauthorize((*id).to_owned()),
            "/v1.0/subscriptions/{id}/reauthorize",
        ),
        _ => return None,
    };
    Some((Route::Subscription(route), template.to_owned(), None, None))
}

fn bearer(req: &GraphRequest) -> Option<&str> {
    let header = req.header("authorization")?;
    let (scheme, token) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Runs one Graph request (plain or batch item) through authentication, counters, faults, limits and service
/// time, then executes it.
pub async fn run(emulator: &Arc<Emulator>, req: GraphRequest, in_batch: bool) -> Outcome {
    let request_id = crate::ids::guid();
    let client_request_id = req.header("client-request-id").map(str::to_owned);
    let fail = |err: GraphError| {
        Outcome::Respond(finish(
            GraphResponse::error(&err, &request_id, client_request_id.as_deref()),
            &request_id,
            client_request_id.as_deref(),
        ))
    };
    let routed = route(&req.path);
    let template = match &routed {
        Ok((_, t, _, _)) => t.clone(),
        Err(_) => format!("/v1.0{}", req.path),
    };
    let route_key = format!("{} {template}", req.method);
    let auth = emulator.with_world(|w| {
        let auth = match bearer(&req) {
            None => Err("Access token is empty."),
            Some(token) => w.identity.check_access(token),
        };
        let mailbox = auth.as_ref().ok().cloned();
        count(w, &route_key, mailbox.as_deref(), in_batch);
        auth
    });
    let mailbox = match auth {
        Ok(m) => m,
        Err(message) => return fail(GraphError::unauthenticated(message)),
    };
    let (route, target, calendar) = match routed {
        Ok((route, _, target, calendar)) => (route, target, calendar),
        Err(err) => return fail(err),
    };
    if let Some(id) = &calendar {
        let known = emulator.with_world(|w| {
            w.mailboxes
                .get(&mailbox)
                .is_some_and(|m| crate::ids::calendar_id(&m.user_id) == *id)
        });
        if !known {
            return fail(GraphError::not_found());
        }
    }
    if let Some(who) = &target {
        let own = emulator.with_world(|w| {
            w.mailboxes
                .get(&mailbox)
                .is_some_and(|m| m.address.eq_ignore_ascii_case(who) || m.user_id == *who)
        });
        if !own {
            return fail(GraphError::new(
                403,
                "ErrorAccessDenied",
                "Access is denied. Check credentials and try again.",
            ));
        }
    }
    let full_path = format!("/v1.0{}", req.path);
    let fault = emulator.with_world(|w| {
        if w.limiter.arrived_too_early(&mailbox, req.arrived) {
            w.counters.retry_after_violations += 1;
        }
        take_fault(w, &req.method, &full_path, &mailbox, false)
    });
    let mut lose_response = false;
    if let Some(fault) = fault {
        match fault.kind {
            FaultKind::Reset => return Outcome::Drop,
            FaultKind::LoseResponse => lose_response = true,
            FaultKind::Error => {
                let status = fault.status.unwrap_or(500);
                let code = match status {
                    500 => "generalException",
                    502 => "BadGateway",
                    503 => "ServiceUnavailable",
                    504 => "GatewayTimeout",
                    _ => "UnknownError",
                };
                return fail(GraphError::new(
                    status,
                    code,
                    "An injected fault of the emulator.",
                ));
            }
            FaultKind::Throttle => {
                let retry_after = match &fault.retry_after {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => "1".to_owned(),
                };
                let seconds = retry_after.parse::<f64>().unwrap_or(1.0);
                emulator.with_world(|w| {
                    w.counters.throttled += 1;
                    w.limiter.throttled(&mailbox, seconds);
                });
                return fail(GraphError::throttled(
                    fault.status.unwrap_or(429),
                    &retry_after,
                ));
            }
        }
    }
    let slot = match crate::limits::acquire(emulator, &mailbox) {
        Ok(slot) => slot,
        Err(wait) => {
            emulator.with_world(|w| {
                w.counters.throttled += 1;
                // Precision loss is irrelevant for a few seconds.
                w.limiter.throttled(&mailbox, wait as f64);
            });
            return fail(GraphError::throttled(429, &wait.to_string()));
        }
    };
    let service_time = emulator.with_world(|w| w.config.service_time_ms);
    if service_time > 0 {
        tokio::time::sleep(Duration::from_millis(service_time)).await;
    }
    let (result, deliveries) = match route {
        Route::Subscription(sub) => (
            crate::subscriptions::handle(emulator, &mailbox, &req, sub).await,
            Vec::new(),
        ),
        route => emulator.with_world(|w| {
            w.rotate_due_change_keys(&mailbox);
            let before = (req.method != "GET").then(|| notify::snapshot(w)).flatten();
            let result = execute(w, &mailbox, &req, route);
            let deliveries = before.map(|b| notify::changes(w, b)).unwrap_or_default();
            (result, deliveries)
        }),
    };
    drop(slot);
    notify::spawn(emulator, deliveries);
    if lose_response {
        return Outcome::Drop;
    }
    match result {
        Ok(resp) => Outcome::Respond(finish(resp, &request_id, client_request_id.as_deref())),
        Err(err) => fail(err),
    }
}

fn finish(
    mut resp: GraphResponse,
    request_id: &str,
    client_request_id: Option<&str>,
) -> GraphResponse {
    resp.headers
        .push(("request-id".into(), request_id.to_owned()));
    resp.headers.push((
        "client-request-id".into(),
        client_request_id.unwrap_or(request_id).to_owned(),
    ));
    if resp.body.is_some() {
        resp.headers.push(("Content-Type".into(), "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8".into()));
    }
    resp
}

/// Counts a request in the counters.
pub fn count(world: &mut World, route_key: &str, mailbox: Option<&str>, in_batch: bool) {
    let counters = &mut world.counters;
    counters.total += 1;
    *counters.by_route.entry(route_key.to_owned()).or_default() += 1;
    if let Some(m) = mailbox {
        let address = world
            .mailboxes
            .get(m)
            .map_or_else(|| m.to_owned(), |mb| mb.address.clone());
        *counters.by_mailbox.entry(address).or_default() += 1;
    }
    if in_batch {
        counters.batch_items += 1;
    }
}

/// Takes the first pending fault matching the request. The batch envelope is matched only by a fault whose
/// `path_contains` names `$batch`, so that other faults reach the items.
pub fn take_fault(
    world: &mut World,
    method: &str,
    path: &str,
    mailbox: &str,
    envelope: bool,
) -> Option<crate::store::Fault> {
    let address = world
        .mailboxes
        .get(mailbox)
        .map_or_else(|| mailbox.to_owned(), |m| m.address.clone());
    let position = world.faults.iter().position(|f| {
        let method_ok = f
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        let path_ok = f.path_contains.as_deref().is_none_or(|p| path.contains(p));
        let envelope_ok = !envelope
            || f.path_contains
                .as_deref()
                .is_some_and(|p| p.contains("$batch"));
        let mailbox_ok = f
            .mailbox
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(&address));
        method_ok && path_ok && envelope_ok && mailbox_ok
    })?;
    let fault = world.faults.get_mut(position)?;
    fault.count = fault.count.saturating_sub(1);
    let taken = fault.clone();
    if fault.count == 0 {
        world.faults.remove(position);
    }
    Some(taken)
}

fn render_options(prefs: &Prefs) -> Result<(RenderOptions, Vec<String>), GraphError> {
    let mut applied = Vec::new();
    let zone = match &prefs.timezone {
        Some(name) => {
            let zone = timezones::resolve(name)?;
            applied.push(format!("outlook.timezone=\"{name}\""));
            zone
        }
        None => timezones::Zone::utc(),
    };
    let body_text = match prefs.body_content_type.as_deref() {
        Some("text") => {
            applied.push("outlook.body-content-type=\"text\"".to_owned());
            true
        }
        Some("html") => {
            applied.push("outlook.body-content-type=\"html\"".to_owned());
            false
        }
        _ => false,
    };
    if prefs.immutable_id {
        // Ids never change in the emulator (no moves between folders), so the one id space is immutable.
        applied.push("IdType=\"ImmutableId\"".to_owned());
    }
    Ok((RenderOptions { zone, body_text }, applied))
}

fn not_allowed(method: &str) -> GraphError {
    GraphError::new(
        405,
        "Request_BadRequest",
        format!("The HTTP method '{method}' is not allowed on this resource."),
    )
}

/// Executes a routed, admitted request against the state.
fn execute(
    world: &mut World,
    key: &str,
    req: &GraphRequest,
    route: Route,
) -> Result<GraphResponse, GraphError> {
    let prefs = req.prefs();
    let (opts, mut applied) = render_options(&prefs)?;
    let origin = req.origin.as_str();
    let link_base = format!("{origin}/v1.0{}", req.path);
    let method = req.method.as_str();
    let write = WriteOptions { send_mail: true };
    let body = req.body.clone().unwrap_or(Value::Null);
    let mut resp = match (route, method) {
        (Route::Me, "GET") => {
            let mb = world.mailboxes.get(key).ok_or_else(GraphError::not_found)?;
            let (given, surname) = mb
                .display_name
                .split_once(' ')
                .unwrap_or((&mb.display_name, ""));
            GraphResponse::json(
                200,
                json!({
                    "@odata.context": format!("{origin}/v1.0/$metadata#users/$entity"),
                    "id": mb.user_id, "displayName": mb.display_name, "givenName": given, "surname": surname,
                    "mail": mb.address, "userPrincipalName": mb.address,
                }),
            )
        }
        (Route::Calendar, "GET") => {
            let mb = world.mailboxes.get(key).ok_or_else(GraphError::not_found)?;
            let mut out = calendar_json(mb);
            out["@odata.context"] = json!(format!(
                "{origin}/v1.0/$metadata#users('{}')/calendar/$entity",
                mb.user_id
            ));
            GraphResponse::json(200, out)
        }
        (Route::Calendars, "GET") => {
            let mb = world.mailboxes.get(key).ok_or_else(GraphError::not_found)?;
            let context = format!("{origin}/v1.0/$metadata#users('{}')/calendars", mb.user_id);
            GraphResponse::json(
                200,
                json!({"@odata.context": context, "value": [calendar_json(mb)]}),
            )
        }
        (Route::Events, "GET") => {
            let mb = world.mailboxes.get(key).ok_or_else(GraphError::not_found)?;
            let mut list: Vec<&crate::store::Event> = mb.events.values().collect();
            list.sort_by_key(|e| e.seq);
            let items: Vec<_> = list.iter().map(|e| render::event(e, &opts)).collect();
            let items = views::filter(items, &req.query)?;
            let items = items
                .into_iter()
                .map(|i| Value::Object(views::select(i, &req.query)))
                .collect();
            GraphResponse::json(
                200,
                views::page(
                    items,
                    &req.query,
                    prefs.max_page_size,
                    &link_base,
                    render::context(origin, mb, false),
                )?,
            )
        }
        (Route::Events, "POST") => {
            let id = events::create(world, key, &body, write)?;
            let mb = world.mailboxes.get(key).ok_or_else(GraphError::not_found)?;
            let ev = mb.events.get(&id).ok_or_else(GraphError::not_found)?;
            let mut out = render::event(ev, &opts);
            out.insert(
                "@odata.context".into(),
                json!(render::context(origin, mb, true)),
            );
            GraphResponse::json(201, Value::Object(out))
        }
        (Route::Event(id), "GET") => {
            let parsed = events::resolve(world, key, &id)?;
            let mb = world.mailboxes.get(key).ok_or_else(GraphError::not_found)?;
            GraphResponse::json(
                200,
                Value::Object(render_one(mb, &parsed, &opts, req, origin)?),
            )
        }
        (Route::Event(id), "PATCH") => {
            events::update(world, key, &id, &body, req.header("if-match"), write)?;
            let parsed = events::resolve(world, key, &id)?;
            let mb = world.mailboxes.get(key).ok_or_else(GraphError::not_found)?;
            GraphResponse::json(
                200,
                Value::Object(render_one(mb, &parsed, &opts, req, origin)?),
            )
        }
        (Route::Event(id), "DELETE") => {
            events::delete(world, key, &id, req.header("if-match"), write)?;
            GraphResponse::empty(204)
        }
        (Route::Instances(id), "GET") => {
            let (from, to) = views::window_params(&req.query)?;
            let master = match events::resolve(world, key, &id)? {
                crate::ids::ParsedId::Item(item) => item,
                crate::ids::ParsedId::Occurrence(..) => {
                    return Err(GraphError::invalid_request(
                        "instances needs a series master id.",
                    ));
                }
            };
            let mb = world.mailboxes.get(key).ok_or_else(GraphError::not_found)?;
            let ev = mb.events.get(&master).ok_or_else(GraphError::not_found)?;
            // A single event has no instances.
            let mut refs = if ev.recurrence.is_some() {
                views::event_instances(ev, from, to)
            } else {
                Vec::new()
            };
            refs.sort_by_key(|r| r.start);
            let items = refs
                .iter()
                .filter_map(|r| views::render_ref(mb, r, &opts))
                .map(|i| Value::Object(views::select(i, &req.query)))
                .collect();
            GraphResponse::json(
                200,
                views::page(
                    items,
                    &req.query,
                    prefs.max_page_size,
                    &link_base,
                    render::context(origin, mb, false),
                )?,
            )
        }
        (Route::Action(id, action), "POST") if action.eq_ignore_ascii_case("permanentDelete") => {
            events::delete(world, key, &id, req.header("if-match"), write)?;
            GraphResponse::empty(204)
        }
        (Route::Action(id, action), "POST") => {
            events::action(world, key, &id, &action, &body)?;
            GraphResponse::empty(202)
        }
        (Route::CalendarView, "GET") => {
            let (from, to) = views::window_params(&req.query)?;
            let mb = world.mailboxes.get(key).ok_or_else(GraphError::not_found)?;
            let items = views::window(mb, from, to)
                .iter()
                .filter_map(|r| views::render_ref(mb, r, &opts))
                .map(|i| Value::Object(views::select(i, &req.query)))
                .collect();
            GraphResponse::json(
                200,
                views::page(
                    items,
                    &req.query,
                    prefs.max_page_size,
                    &link_base,
                    render::context(origin, mb, false),
                )?,
            )
        }
        (Route::Delta, "GET") => {
            // An empty token (as in a sync reset's Location) starts a fresh round.
            let token = |name| views::param(&req.query, name).filter(|t| !t.is_empty());
            let call = if let Some(token) = token("$deltatoken") {
                DeltaCall::Delta(token)
            } else if let Some(token) = token("$skiptoken") {
                DeltaCall::Skip(token)
            } else {
                let (from, to) = views::window_params(&req.query)?;
                DeltaCall::Start(from, to)
            };
            let quirks = views::DeltaQuirks {
                empty_pages: world.config.delta_empty_pages,
                removed_outside_window: world.config.delta_removed_outside_window,
                replays: world.config.delta_replays,
            };
            let page_size = prefs
                .max_page_size
                .unwrap_or(world.config.delta_page_size_default)
                .clamp(1, DELTA_MAX_PAGE_SIZE);
            applied.push("odata.track-changes".to_owned());
            if prefs.max_page_size.is_some() {
                applied.push(format!("odata.maxpagesize={page_size}"));
            }
            let mb = world
                .mailboxes
                .get_mut(key)
                .ok_or_else(GraphError::not_found)?;
            GraphResponse::json(
                200,
                views::delta(mb, call, page_size, quirks, &opts, &link_base, origin)?,
            )
        }
        (Route::SupportedTimeZones(iana), "GET") => GraphResponse::json(
            200,
            json!({
                "@odata.context": format!("{origin}/v1.0/$metadata#Collection(microsoft.graph.timeZoneInformation)"),
                "value": timezones::supported(iana),
            }),
        ),
        (_, other) => return Err(not_allowed(other)),
    };
    if !applied.is_empty() {
        resp.headers
            .push(("Preference-Applied".into(), applied.join(", ")));
    }
    Ok(resp)
}

/// The mailbox's one calendar.
fn calendar_json(mb: &crate::store::Mailbox) -> Value {
    json!({
        "id": crate::ids::calendar_id(&mb.user_id), "name": "Calendar", "color": "auto", "isDefaultCalendar": true,
        "canEdit": true, "canShare": true, "canViewPrivateItems": true, "isRemovable": false,
        "owner": {"name": mb.display_name, "address": mb.address},
    })
}

/// One event or occurrence for GET/PATCH answers, with `$select`/`$expand` of the series extras.
fn render_one(
    mb: &crate::store::Mailbox,
    parsed: &crate::ids::ParsedId,
    opts: &RenderOptions,
    req: &GraphRequest,
    origin: &str,
) -> Result<serde_json::Map<String, Value>, GraphError> {
    let mut out = match parsed {
        crate::ids::ParsedId::Item(id) => {
            let ev = mb.events.get(id).ok_or_else(GraphError::not_found)?;
            let mut out = render::event(ev, opts);
            let wants = |param: &str, name: &str| {
                views::param(&req.query, param)
                    .is_some_and(|v| v.split(',').any(|s| s.trim().eq_ignore_ascii_case(name)))
            };
            if ev.recurrence.is_some() && wants("$select", "cancelledOccurrences") {
                out.insert(
                    "cancelledOccurrences".into(),
                    render::cancelled_occurrences(ev),
                );
            }
            if ev.recurrence.is_some() && wants("$expand", "exceptionOccurrences") {
                let list: Vec<Value> = ev
                    .exceptions
                    .keys()
                    .map(|d| Value::Object(render::occurrence(ev, *d, opts)))
                    .collect();
                out.insert("exceptionOccurrences".into(), Value::Array(list));
            }
            out
        }
        crate::ids::ParsedId::Occurrence(master, date) => {
            let ev = mb.events.get(master).ok_or_else(GraphError::not_found)?;
            render::occurrence(ev, *date, opts)
        }
    };
    out = views::select(out, &req.query);
    out.insert(
        "@odata.context".into(),
        json!(render::context(origin, mb, true)),
    );
    Ok(out)
}
