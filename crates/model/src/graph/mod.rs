//! Microsoft Graph event JSON <-> [`Event`](crate::Event).
//!
//! - [`read`]: an event as Graph sends it (any zone, 7 fractional digits, enums in any case) -> `Event`,
//!   plus delta items (`@removed` tombstones).
//! - [`write`](mod@write): the create payload and the minimal PATCH between two versions of an event.
//! - [`datetime`]: Graph's `dateTimeTimeZone` values.

pub mod datetime;
pub(crate) mod enums;
pub mod read;
pub mod write;

pub use read::{DeltaItem, GraphEvent, delta_item_from_graph, event_from_graph};
pub use write::{diff_to_graph_patch, to_graph_create};
