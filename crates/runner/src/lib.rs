//! `outlook-runner`: one sync run of one mailbox — pull, plan, push.
//!
//! [`run`] drives the sans-IO engine (`outlook_engine`) the way its caller contract asks:
//!
//! 1. **Pull** Outlook: one calendarView delta round from the stored link (a full round over the
//!    window on the first run or after `410`), its delta link read *before* any write.
//!    Occurrences are collapsed to their series master (each master read once, in `$batch`), so a
//!    series is one item on each side and its edits are one PATCH to the master. A master's
//!    deleted occurrences (`cancelledOccurrences`) are part of the series' content
//!    ([`outlook_model::Event::deleted_occurrences`]), so one deleted in Outlook changes the series,
//!    and reaches Odoo in its values (`recurrence.deleted_dates`); so are its edited occurrences
//!    (`exceptionOccurrences`, [`outlook_model::Event::exceptions`], `recurrence.exceptions`). Graph's
//!    `@removed` also means "left the window", so a removed linked item is read by id (`$batch`)
//!    and counts as deleted only when Outlook answers `404 ErrorItemNotFound`; an event still there
//!    keeps its link and is compared by content (moved out of the window: an update), and a read
//!    that fails deletes nothing, is reported and retried next run (unless our own re-create of
//!    that pair, made by a run whose result was not stored, is in the mailbox: it proves the
//!    deletion, and the pair is linked to it). A removed occurrence deletes its series only when
//!    the master itself reads `ErrorItemNotFound`.
//! 2. **Plan** with all stored statuses against the Odoo side (full listing or delta). The
//!    engine's safety stop (an emptied side) ends the run with [`RunError::Plan`], nothing written.
//!    On a first sync, [`FirstSync`] decides which pre-existing Odoo events go to Outlook; events
//!    existing on both sides are linked (by `transactionId`, `iCalUId`, then subject, start, end and
//!    organizer, then, for meetings the owner attends, organizer and subject where unambiguous),
//!    never duplicated.
//! 3. **Push** Outlook in `$batch` envelopes of 20: creates carry the engine's deterministic
//!    `transactionId` (a retry after a lost response finds the first event instead of duplicating
//!    it; if that event was deleted since, Graph still refuses the id, and the create moves on to
//!    the next id of a deterministic chain, which later runs recognise too), updates send only the
//!    changed property groups (nothing at all when nothing a person would notice changed), deletes
//!    treat `404` as done. Each item has its own outcome; a failed item is reported and retried
//!    next run. An occurrence Odoo deleted and Outlook still has is then deleted on its own: found
//!    among the master's instances over that day, then `DELETE`d, both in `$batch` (Outlook mails
//!    one cancellation of that occurrence to each attendee); a series whose occurrence could not be
//!    deleted fails and is sent again next run. The ids deleted go to
//!    [`SyncState::deleted_remote`], so their echo in the next delta costs nothing. An occurrence
//!    Odoo edited on its own (moved, renamed, another location, body, attendees or reminder) is
//!    written the same way, found by its original day and `PATCH`ed (one update of that
//!    occurrence; attendees alone mail an invitation or cancellation of that occurrence to each
//!    one added or removed, a reminder no one), only when Outlook does not already hold it so.
//!
//!    **Echo round.** When anything was sent, one more delta round from the link read before the
//!    writes reads them back, and its link is stored instead when it holds nothing but our own
//!    writes: the ids created or updated (occurrences edited on their own included) with the
//!    content hash Outlook answered, occurrences of
//!    a series we wrote no newer than the master's `lastModifiedDateTime` we got back (the master
//!    is not read again), and `@removed` of ids we deleted. The next run then starts after our
//!    writes: an idle run costs one request, and an event this run created that a person deletes
//!    before the next run is reported removed (the link read before the write never saw it).
//!    Anything else in the round (a person's change since the pull) discards it whole, and the
//!    link read before the writes is stored, as when the round fails (throttled, `410`, error);
//!    the round never fails the run, and the ids this run created go to
//!    [`SyncState::pending_remote`], so one deleted before the next run is still read as deleted.
//!    Its requests count in [`Report::requests`].
//! 4. **Return** the Odoo writes ([`LocalWrite`]), the new [`SyncState`] and a [`Report`] (counts per
//!    side, failures with reasons, conflicts with the losing content, mails Outlook sends, requests).
//!
//! A dry run ([`RunOptions::dry_run`]) stops after planning: it reports the operations of both
//! sides and the mails Outlook would send, writes nothing and returns the state unchanged.
//!
//! # Organizer rules
//!
//! Only the organizer's copy changes a meeting; every invited mailbox holds its own copy (the same
//! `iCalUId`, `isOrganizer` false). For a meeting the owner attends (the Odoo values say
//! `is_organizer: false`, or the copy says `isOrganizer: false`):
//!
//! - **Never created in Outlook.** Creating it would make the owner organizer of a second meeting
//!   and invite everyone again, the organizer included. It stays unlinked, is listed in
//!   [`RunOutput::retry_local`] (so it is offered again) and reported once per run in
//!   [`Report::attendee_notes`] ([`AttendeeNoteKind::WaitingForInvitation`]); when the
//!   organizer's invitation brings the copy into this mailbox, the engine links the two (by
//!   `iCalUId`, then by subject, start, end and organizer), whichever mailbox synced first. The
//!   first-sync policy does not apply to such events (nothing is written for them).
//! - **Moved while waiting.** An event the owner moved in Odoo while it waited (or whose copy the
//!   organizer moved before this run saw it) no longer has the copy's start and end. It is still
//!   linked to the copy when the pairing is unambiguous: the only Odoo event waiting, and the only
//!   copy arriving, from that organizer with that subject (both series or both single events, and
//!   no other `iCalUId` known for the Odoo event; the engine's `awaited_key`). The copy is the
//!   meeting: the pair then goes as any Odoo edit of an attended meeting (below): the copy's
//!   meeting fields are written back to Odoo, the differing fields are reported
//!   ([`AttendeeNoteKind::OrganizerVersionKept`]), nothing of the meeting is written to the copy,
//!   and an answer given in Odoo is sent. With two candidates on either side (two "Weekly 1:1" from
//!   one organizer), nothing is linked that way: the copy is imported as an Odoo event of its own
//!   and the waiting ones keep waiting (a duplicate a person can delete, rather than one meeting
//!   overwritten with another). A waiting event linked by `iCalUId` or by subject, start, end and
//!   organizer to a copy that differs from it goes the same way, never through the conflict
//!   policy (which could let the copy overwrite an answer given in Odoo). An event renamed in Odoo
//!   while it waited has nothing left to pair on: its copy is imported as an event of its own.
//! - **The owner's answer is a response.** A changed `own_state` (accepted, declined, tentative)
//!   is sent as `POST /me/events/{id}/accept` (`decline`, `tentativelyAccept`) with
//!   `sendResponse: true`, in the run's `$batch`; Outlook mails the organizer one `response`
//!   ([`Mails::responses`]). "No answer" cannot be sent: Outlook's answer is kept.
//! - **Personal fields are the owner's.** Reminder, show-as and categories changed in Odoo are
//!   PATCHed on the copy (Graph allows it; no mail). When the pair is linked for the first time,
//!   Odoo's values for them are the event's, not this attendee's: they are left as they are on
//!   both sides.
//! - **Meeting fields are the organizer's.** Subject, body, location, start/end, recurrence,
//!   attendees, sensitivity, online meeting, cancellation and organizer are never written to an
//!   attendee's copy. When the organizer's mailbox does not sync the event through this database,
//!   the organizer's Outlook version is written back to Odoo (a [`LocalWrite`] update) and the
//!   fields Odoo had changed are named once per item ([`AttendeeNoteKind::OrganizerVersionKept`]).
//!   When it does ([`LocalEvent::organizer_syncs`]), an Odoo edit of the meeting is the
//!   organizer's run's to send: the attendee's run leaves it in Odoo (overwriting it would undo
//!   an edit the organizer's run has not sent yet), and the copy follows once the organizer's run
//!   has sent it.
//! - **Both sides changed** (the organizer updated the meeting while the owner answered in Odoo):
//!   no conflict, both survive: the answer and personal fields go to Outlook, the organizer's
//!   meeting fields to Odoo.
//! - **Removed from the mailbox while changed in Odoo.** "Modification beats deletion" would
//!   create the meeting again, organized by the owner: the removal stands instead, and the Odoo
//!   event is deleted with its changes, which the report says once per item
//!   ([`AttendeeNoteKind::RemovedWithOdooChanges`]).
//!
//! # Caller contract (the Odoo addon)
//!
//! - Apply [`RunOutput::local_ops`] and store [`RunOutput::state`] in one transaction. For each
//!   write, store its `link` on success (for a create, with `local_id` set to the new record's id);
//!   on failure, store its `previous` link *and* list its Outlook id in the state's
//!   `pending_remote` ([`SyncState::keep_unapplied`] does both): the stored delta link has moved
//!   past that change, so without it an Outlook event whose copy Odoo refused would never be
//!   offered again.
//! - Keep dirty flags / tombstones of [`RunOutput::retry_local`] and list them again next run.
//! - The values of a written record must read back unchanged (same fields, same normalisation):
//!   the link records the hash of what was written, so anything Odoo alters reads as a local edit.
//! - On [`RunError`], store nothing: the next run recognises what was already written to Outlook.
//! - **Sent journal.** Call [`run_journaled`] and commit each group of [`SentWrite`]s it reports
//!   at once, outside the run's transaction; hand those not superseded by a committed state to
//!   the next run in [`RunInput::sent`], oldest first, and drop them once a run's state is
//!   committed (or the state is reset). A run that dies after Outlook confirmed a write then
//!   leaves the next run knowing it was sent: a person's later Outlook deletion is applied, and
//!   the write's echo is not taken for a person's edit (see the `journal` module). Updates are
//!   journaled before they are sent too; one whose answer never came, followed by a person's
//!   deletion in Outlook, is settled by the journal's policy (the deletion wins, and
//!   [`Report::notices`] says so with the Odoo content). For an event deleted before any
//!   run linked it, list its id as deleted all the same: an Outlook event carrying the
//!   `transactionId` a run derived from it is that run's create, and is deleted.
//! - Several users, one meeting: list a meeting in each synced participant's run with that
//!   user's view (`is_organizer`, `own_state`), one Odoo event for all of them, its `ical_uid` set
//!   from any link that knows it (this mailbox's first), and [`LocalEvent::organizer_syncs`] set
//!   when the organizer's own mailbox syncs it too. Keep listing an attendee's unlinked event
//!   (it is in [`RunOutput::retry_local`]) until its copy is linked.
//!
//! # Known limits
//!
//! - Edited occurrences (exceptions) carry their times, subject, location, body (made safe on
//!   its way into Odoo as a series' body is, compared in normalized form, so Odoo's rendering of
//!   it is no edit), attendees (compared as sets of addresses) and reminder. Their attendees'
//!   answers are not synced occurrence by occurrence: Odoo keeps an answer per occurrence that
//!   the addon sets only on the series, and Graph cannot write answers, so counting them would
//!   make occurrences read as edited that no one edited. An attendee added to or removed from
//!   the whole series in Outlook is taken to follow on the occurrences without attendees of their
//!   own (Graph does not say; the emulator does so). Odoo does not
//!   remember which day of the rule an occurrence moved to another day came from: the addon takes
//!   it for the nearest day left empty, never for a deletion. Outlook drops a series' exceptions when its start, end, all-day
//!   flag or rule changes: the exceptions Odoo still has are then written again, one each.
//!   Renaming a series whose exceptions Outlook holds may write those exceptions again too (Graph
//!   does not say which of their fields follow the master). An occurrence with the series' body
//!   is taken to follow it (its exception holds no body of its own): should Outlook keep the old
//!   body on such an occurrence when the series' body changes, a later read of the series brings
//!   that body to Odoo's occurrence as Outlook's edit.
//! - Deleted occurrences: an occurrence cannot come back. A date Outlook lists as deleted and Odoo
//!   does not (an occurrence restored in Odoo) is left as it is on both sides. Outlook drops a
//!   series' deleted occurrences when its start, end, all-day flag or rule changes: a write that
//!   changes them deletes Odoo's deleted dates again, one instance each. Odoo's first occurrence
//!   (the series' base event) is not deleted by the addon: that would move the series' start.
//! - A linked event outside the window is only seen again when Graph reports it (its `@removed`
//!   quirk for changes outside the window) or on a full round, which reads such events by id.
//! - Organizer rules: the copy's state after an answer is predicted (its response set), since the
//!   action returns nothing; real Outlook may also change the copy's show-as on accepting, which
//!   the next run then brings to Odoo as an Outlook change (no Graph write). Deleting, in Odoo, a
//!   meeting the owner attends deletes the owner's copy (no mail; the organizer is not told, as
//!   a decline would). The owner's copy deleted in Outlook is a [`LocalAction::Delete`] of the
//!   Odoo event, even when the Odoo event changed since (only the organizer could send the copy
//!   again): in a database several users sync, the addon should take the owner off the meeting
//!   rather than delete a meeting the owner does not organize. The attendee list of an
//!   attendee's copy does not carry the others' answers reliably, so Odoo's answers of other
//!   attendees are kept when the organizer's version is written back.

mod attendee;
mod echo;
mod error;
mod identity;
mod journal;
mod local;
mod mails;
mod occurrences;
mod output;
mod pull;
mod push;
mod run;
mod state;

pub use error::RunError;
pub use journal::{Delivery, SentWrite};
pub use output::{
    AttendeeNote, AttendeeNoteKind, ConflictReport, Counts, ItemFailure, LocalAction, LocalWrite,
    Mails, Notice, NoticeKind, PlannedOp, Report, RunOutput, Unsupported,
};
pub use run::{run, run_journaled};
pub use state::{FirstSync, Link, LocalEvent, LocalListing, RunInput, RunOptions, SyncState};

/// The conflict policy type of [`RunOptions::policy`], re-exported so callers need not depend on
/// the engine.
pub use outlook_engine::ConflictPolicy;
