//! `outlook-emulator`: a stateful Microsoft Graph v1.0 calendar and identity-platform emulator, the test oracle
//! of outlook-sync. The behaviour contract is `docs/emulator.md`; Graph facts with sources are in
//! `graph_api.md` (section 13 is the fidelity checklist).
//!
//! Layout: [`server`](crate::start) owns the HTTP side (a hyper serve loop, so faults can drop connections);
//! `graph` routes and admits Graph requests (auth, counters, faults, `limits`, service time) and `batch` fans
//! `$batch` items through the same path; `events` holds the writes and their `mail`, `views` the reads
//! (calendarView, instances, delta), `render` the Graph JSON; `properties`, `recurrence` and `timezones` parse
//! and validate input; `identity` and `signin` are the OAuth side; `controls` the `/_emulator` test API;
//! `subscriptions` serves `/subscriptions` and `notify` delivers webhooks (handshake, change notifications,
//! lifecycle events) on their own tasks.
//! All state lives in one `store::World` behind a mutex that is never held across an await.
//!
//! ```no_run
//! let emulator = outlook_emulator::start("127.0.0.1:0".parse().unwrap()).unwrap();
//! println!("{}", emulator.base_url());
//! emulator.stop();
//! ```

mod batch;
mod controls;
mod errors;
mod events;
mod graph;
mod identity;
mod ids;
mod limits;
mod mail;
mod notify;
mod prefer;
mod properties;
mod recurrence;
mod render;
mod server;
mod signin;
mod store;
mod subscriptions;
mod timezones;
mod views;

pub use limits::VIOLATION_GRACE;

pub use server::{Emulator, EmulatorHandle, router, start};
