//! The plain records the Odoo addon hands over and receives, and their conversion to and from [`Event`].
//!
//! The addon reads `calendar.event` with `read()`-style dicts and passes them as JSON-like data; `False`
//! is accepted wherever Odoo writes it for "no value" (see [`falsy`]). Datetimes are Odoo's naive UTC
//! strings (`"2024-03-31 08:30:00"`). Descriptions coming from Outlook are sanitized on the way in
//! ([`html`]).
//!
//! [`Event`]: crate::Event

mod exception;
pub mod falsy;
pub mod html;
mod naive_utc;
mod record;

pub use crate::recurrence::odoo::{
    OdooEndType, OdooMonthBy, OdooRecurrence, OdooRruleType, from_odoo, to_odoo,
};
pub use exception::OdooException;
pub use record::{
    OdooAttendee, OdooAttendeeState, OdooEvent, OdooPrivacy, OdooShowAs, all_day_end,
    odoo_stop_date,
};
