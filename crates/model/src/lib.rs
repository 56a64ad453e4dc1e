//! `outlook-model`: the neutral calendar event model of outlook-sync, and its conversions.
//!
//! Sans-IO: no network, no clock, no global state beyond lazily built lookup tables.
//!
//! - [`event`]: the model the reconciliation engine works on ([`Event`]).
//! - [`hash`]: [`semantic_hash`], the fingerprint that decides whether an event changed.
//! - [`timezones`]: Windows <-> IANA names (CLDR) and [`timezones::resolve`].
//! - [`recurrence`]: [`Recurrence`] and its Graph JSON, RRULE and Odoo forms.
//! - [`graph`]: Graph event JSON -> [`Event`], [`Event`] -> create payload, minimal PATCH diffs.
//! - [`odoo`]: the plain records the Odoo addon exchanges, <-> [`Event`].
//! - [`error`]: [`ModelError`] and [`Warning`].
//!
//! ```
//! use outlook_model::graph::{diff_to_graph_patch, event_from_graph};
//!
//! let json = serde_json::json!({
//!     "id": "AAMkAGI1AAAt9AHjAAA=", "subject": "Lunch",
//!     "start": {"dateTime": "2017-04-15T11:00:00.0000000", "timeZone": "Pacific Standard Time"},
//!     "end": {"dateTime": "2017-04-15T12:00:00.0000000", "timeZone": "Pacific Standard Time"},
//! });
//! let read = event_from_graph(&json)?;
//! assert_eq!(read.event.time_zone.as_deref(), Some("America/Los_Angeles"));
//!
//! let mut edited = read.event.clone();
//! edited.subject = "Late lunch".into();
//! assert_ne!(outlook_model::semantic_hash(&edited), outlook_model::semantic_hash(&read.event));
//! let patch = diff_to_graph_patch(&read.event, &edited)?;
//! assert_eq!(patch.keys().collect::<Vec<_>>(), ["subject"]);
//! # Ok::<(), outlook_model::ModelError>(())
//! ```

pub mod error;
pub mod event;
pub mod graph;
pub mod hash;
pub mod odoo;
pub mod recurrence;
pub mod timezones;

pub use error::{ModelError, Warning};
pub use event::{
    Attendee, AttendeeType, EmailAddress, Event, EventKind, EventTime, Person, Privacy,
    ResponseStatus, ShowAs,
};
pub use hash::{semantic_hash, semantic_hash_hex};
pub use recurrence::exceptions::OccurrenceException;
pub use recurrence::{Pattern, Range, RangeEnd, Recurrence, WeekIndex, Weekday};
