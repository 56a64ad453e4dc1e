"""One sync run of one account: gather Odoo's side, call the engine, apply what it returns, keep its state.

The engine (``outlook_sync.sync_mailbox``) reads Outlook, plans, writes Outlook and hands back the writes for Odoo
with the new state. Its contract: apply those writes and store the state in the same transaction; a write that
fails keeps the previous link and has the next run read the Outlook event again (``_keep_unapplied``).
"""

import json
import logging
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

from odoo import fields, models
from odoo.exceptions import UserError

import outlook_sync

from .calendar_event import APPLYING_CONTEXT_KEY
from .outlook_event_values import (
    RECURRENCE_FIELDS,
    Lookups,
    apply_occurrences,
    content_hash,
    event_values,
    series_base,
    write_values,
)
from .outlook_sync_account import TRACKING_STATES

_logger = logging.getLogger(__name__)

# The window of a first read, as the engine's own default: what a calendar user looks back on and plans ahead.
WINDOW_PAST = timedelta(days=30)
WINDOW_FUTURE = timedelta(days=365)
# Fields whose change reshapes a series in Odoo (its times, its rule): written through its base event's "all events".
SERIES_SHAPE_FIELDS = frozenset(
    {"start", "stop", "start_date", "stop_date", "allday", "event_tz", "recurrency", "active", *RECURRENCE_FIELDS}
)
# New events created together: Odoo's per-call work (followers, the occurrences of series with the same rule) is
# shared by a batch, and a refused batch is retried in halves, so a large one costs little when one event is bad.
CREATE_BATCH = 500
# How many failures, conflicts and unsupported items the log message spells out (the counts are always given).
MESSAGE_DETAILS = 20


class Applying:
    """What applying one run's Odoo writes carries along: the state to complete, counts, failures, lookups, and
    the events created (their reminders are scheduled once, at the end)."""

    def __init__(self, state, lookups):
        self.state = state
        self.lookups = lookups
        self.applied = Counter()
        self.failures = []
        self.created_ids = []
        # Outlook's single occurrences a series in Odoo cannot hold, as "not synced" lines of the report.
        self.not_synced = []


class TokenKeeper:
    """The latest tokens of a run. Microsoft rotates the refresh token on use, so the newest one is stored even when
    the run itself fails and its writes are rolled back."""

    def __init__(self, tokens):
        self.latest = tokens

    def update(self, tokens):
        if tokens is not None:
            self.latest = tokens


def _notification(title, message, kind):
    return {
        "type": "ir.actions.client",
        "tag": "display_notification",
        "params": {"title": title, "message": message, "type": kind, "sticky": True},
    }


class OutlookSyncAccount(models.Model):
    _inherit = "outlook.sync.account"

    # -- the local side ------------------------------------------------------------------------------------
    def _gather_local(self, notes=None):
        """The Odoo side of a run: every event of the user on a full pass, otherwise only the events changed since
        the last run and the ids of those deleted (or no longer the user's). ``notes``, a list, receives what of them
        cannot be synced, as the report's "unsupported" entries (see ``_local_items``)."""
        self.ensure_one()
        account = self.sudo()
        Event = self.env["calendar.event"].sudo().with_context(active_test=False)
        domain = account._event_domain()
        tombstones = account._tombstones()
        deleted = set(tombstones.mapped("odoo_event_id"))
        # See outlook.sync.tombstone's content_hash: how an echo of a killed run's write is told from an edit.
        deleted_hashes = {str(t.odoo_event_id): t.content_hash for t in tombstones if t.content_hash}
        if account.full_sync_needed or not account.delta_state:
            # Archived events are left out: for Outlook an archived event is a deleted one (a cancellation), and
            # unarchiving it makes a new one (invitations), which is what attendees of an Odoo event expect.
            events = series_base(Event.search([*domain, ("active", "=", True)]))
            kind = "full"
        else:
            dirty = series_base(account.link_ids.filtered("dirty").event_id)
            events = dirty.filtered_domain([*domain, ("active", "=", True)])
            # Linked events archived, or that the user no longer organizes or attends, leave their mailbox. So do
            # those not linked yet: a copy a killed run made of one is recognised by its transactionId.
            linked = set(account.link_ids.filtered("remote_id").event_id.ids)
            gone = dirty - events
            deleted |= set(gone.ids)
            deleted_hashes |= account._last_hashes(gone.filtered(lambda event: event.id in linked))
            kind = "delta"
        items = account._local_items(events, notes)
        if kind == "full":
            return {"kind": "full", "events": items}
        return {"kind": "delta", "changed": items, "deleted": sorted(deleted), "deleted_hashes": deleted_hashes}

    def _last_hashes(self, events):
        """Content hashes of dirty ``events`` leaving the mailbox (archived, or no longer the user's), as active
        events: the content a killed run would have sent before they left."""
        Link = self.env["outlook.sync.link"].sudo()
        found = Link.search([("account_id", "=", self.id), ("event_id", "in", events.ids)])
        links = {link.event_id.id: link for link in found}
        hashes = {}
        for event in events:
            values = {**event_values(event, self.user_id, links[event.id].ical_uid), "active": True}
            try:
                hashes[str(event.id)] = outlook_sync.local_hash(values)
            except ValueError:
                continue  # unreadable: the engine reports the record; without a hash an echo counts as an edit
        return hashes

    def _local_items(self, events, notes=None):
        """The engine's items for ``events``. ``notes``, a list, receives the occurrences Outlook cannot hold (moved on
        or past a neighbouring occurrence's day) of the series changed in Odoo since their last sync: said once, when
        the change is sent, rather than at every full pass while nothing changes."""
        user = self.user_id
        uids = self._known_ical_uids(events)
        # Meetings whose organizer syncs through this database: the organizer's run sends their Odoo edits, so an
        # attendee's run must neither send them nor undo them.
        syncing = set(
            self.search([("state", "in", TRACKING_STATES), ("user_id", "in", events.user_id.ids)]).user_id.ids
        )
        synced = set()
        if notes is not None:
            synced = set(
                self.env["outlook.sync.link"]
                .sudo()
                .search(
                    [
                        ("account_id", "=", self.id),
                        ("event_id", "in", events.ids),
                        ("remote_id", "!=", False),
                        ("dirty", "=", False),
                    ]
                )
                .event_id.ids
            )
        items = []
        for event in events:
            crossed = [] if notes is not None and event.id not in synced else None
            items.append(
                {
                    "values": event_values(event, user, uids.get(event.id), crossed),
                    "modified_at": fields.Datetime.to_string(event.write_date),
                    "organizer_syncs": event.user_id != user and event.user_id.id in syncing,
                }
            )
            if crossed:
                notes += [self._crossing_note(event, day, moved_to) for _occurrence, day, moved_to in crossed]
        return items

    def _crossing_note(self, event, day, moved_to):
        """The occurrence of ``event``'s series standing for the rule's ``day``, moved to the day ``moved_to`` where
        Outlook cannot hold it, as an "unsupported" entry of the report."""
        return {
            "remote_id": None,
            "label": event.name,
            "reason": self.env._(
                "the occurrence of %(day)s was moved to %(date)s, on or past the day of a neighbouring occurrence; "
                "Outlook cannot hold that move, so it is not synced until the occurrence is back between its "
                "neighbours",
                day=day.isoformat(),
                date=moved_to.isoformat(),
            ),
        }

    def _known_ical_uids(self, events):
        """iCalUIds known for ``events``, this mailbox's first: one meeting has the same iCalUId in every mailbox,
        which is how an attendee's copy is recognised as the event Odoo already has."""
        links = (
            self.env["outlook.sync.link"]
            .sudo()
            .search([("event_id", "in", events.ids), ("ical_uid", "!=", False)], order="id")
        )
        uids = {}
        for link in links.sorted(lambda link: link.account_id != self):
            uids.setdefault(link.event_id.id, link.ical_uid)
        return uids

    def _tombstones(self):
        return self.env["outlook.sync.tombstone"].sudo().search([("account_id", "=", self.id)])

    # -- the run -------------------------------------------------------------------------------------------
    def _run_sync(self, trigger="cron"):
        """One sync run of this account, recorded in the sync log and the server log, in the current transaction.

        Returns the log record (empty when another run holds the account)."""
        self.ensure_one()
        if not self._try_lock():
            _logger.info("Outlook sync of %s skipped: another run is in progress", self.user_id.login)
            return self.env["outlook.sync.log"]
        started_at = fields.Datetime.now()
        clock = time.monotonic()
        local = {"kind": "full" if self.full_sync_needed else "delta"}
        keeper = None
        try:
            notes = []
            local = self._gather_local(notes)
            keeper = TokenKeeper(self._tokens())
            # Applying Outlook's changes and storing the new state succeed or fail together.
            with self.env.cr.savepoint():
                outcome = self._exchange(local, keeper, notes)
        except outlook_sync.SafetyStopError as error:
            outcome = self._failure(
                "error",
                self.env._(
                    "Sync stopped to protect your events, nothing was changed: %(reason)s Check both calendars; an "
                    "administrator can reset the account if one side was emptied on purpose.",
                    reason=error,
                ),
            )
        except outlook_sync.ReconnectRequired as error:
            # The wheel's messages already say what to do, in words meant for the people reading the log.
            outcome = self._failure("reconnect", str(error))
        except (outlook_sync.OutlookSyncError, UserError, ValueError) as error:
            outcome = self._failure("error", str(error))
        finally:
            # Outside the savepoint: a failed run must not lose a refresh token Microsoft has already rotated.
            if keeper is not None:
                self._store_tokens(keeper.latest)
        return self._record_run(trigger, started_at, time.monotonic() - clock, local, outcome)

    def _exchange(self, local, keeper, notes=()):
        """Calls the engine and applies its result; ``notes`` are what ``_gather_local`` found Outlook cannot hold.
        Returns an outcome dict (see ``_record_run``)."""
        run_seq = self.sudo().sent_seq + 1
        Sent = self.env["outlook.sync.sent"]
        result, mailbox = self._call_engine(local, keeper, journal=Sent._recorder(self, run_seq))
        applied, failures = self._apply_local_ops(result)
        result["report"]["unsupported"].extend(notes)
        self._store_state(result, local)
        # The stored state now holds what the sent journal held for this account.
        self.sudo().sent_seq = run_seq
        return self._outcome(result["report"], applied, failures, mailbox)

    def _call_engine(self, local, keeper, dry_run=False, journal=None):
        """``outlook_sync.sync_mailbox`` with this account's settings and state; ``keeper`` follows the tokens and
        ``journal`` (see ``outlook.sync.sent``) records the updates about to be sent and what Outlook answers."""
        account = self.sudo()
        config = self.env["outlook.sync.config"]
        graph_config = config._graph_config()
        mailbox = account.mailbox or self._read_mailbox(graph_config, keeper)
        if not account.delta_state and account.next_sync_mode == "new" and account.sync_from:
            account._start_from_now(graph_config, keeper)
        try:
            result = outlook_sync.sync_mailbox(
                graph_config,
                keeper.latest,
                json.loads(account.delta_state) if account.delta_state else None,
                local,
                mailbox=mailbox,
                transaction_salt=self._transaction_salt(),
                policy=config._param("conflict_policy"),
                first_sync=config._param("first_sync"),
                dry_run=dry_run,
                sent=self.env["outlook.sync.sent"]._pending(account),
                on_sent=journal,
            )
        except outlook_sync.OutlookSyncError as error:
            keeper.update(getattr(error, "tokens", None))
            raise
        keeper.update(result["tokens"])
        return result, mailbox

    def action_preview_sync(self):
        """A dry run of the next sync: what it would create, change and delete on each side, and how many mails
        Outlook would send, before anything is written. Nothing is stored but the rotated tokens."""
        self.ensure_one()
        self._check_manage_rights()
        account = self.sudo()
        if account.state not in ("connected", "error", "stopped"):
            raise UserError(self.env._("Connect the Outlook account first: a preview reads the Outlook calendar."))
        if not self._try_lock():
            return _notification(
                self.env._("Outlook sync preview"),
                self.env._("A sync of this account is running right now; preview again in a moment."),
                "warning",
            )
        keeper = TokenKeeper(self._tokens())
        try:
            result, _mailbox = self._call_engine(self._gather_local(), keeper, dry_run=True)
        except outlook_sync.OutlookSyncError as error:
            # Said in a notification, not raised: raising would roll back the rotated tokens stored below.
            return _notification(
                self.env._("Outlook sync preview"),
                self.env._("The preview could not read Outlook: %(error)s", error=error),
                "danger",
            )
        finally:
            self._store_tokens(keeper.latest)
        report = result["report"]
        local, remote, mails = report["local"], report["remote"], report["mails"]
        message = self.env._(
            "The next sync of %(user)s would create %(rc)s, update %(ru)s and delete %(rd)s event(s) in Outlook, and "
            "create %(lc)s, update %(lu)s and delete %(ld)s in Odoo. Outlook would send %(inv)s invitation(s), "
            "%(upd)s update(s) and %(can)s cancellation(s) to attendees.",
            user=self.user_id.display_name,
            rc=remote["created"],
            ru=remote["updated"],
            rd=remote["deleted"],
            lc=local["created"],
            lu=local["updated"],
            ld=local["deleted"],
            inv=mails["invitations"],
            upd=mails["updates"],
            can=mails["cancellations"],
        )
        if report["failures"]:
            message += " " + self.env._("%(count)s item(s) would fail.", count=len(report["failures"]))
        return _notification(self.env._("Outlook sync preview"), message, "info")

    def _transaction_salt(self):
        """Stable for this database and account: the engine derives Outlook's transactionIds from it, so a create
        retried after a crash is recognised instead of duplicated."""
        return f"{self.env['ir.config_parameter'].sudo().get_param('database.uuid')}/{self.id}"

    def _start_from_now(self, graph_config, keeper):
        """ "Synchronize only new events": read Outlook's calendar once, only for the delta link that marks now, so
        that what already exists there is left alone (as the Odoo side, whose listing starts at ``sync_from``)."""
        client = outlook_sync.GraphClient(graph_config, keeper.latest)
        now = datetime.now(timezone.utc)
        try:
            result = client.delta(start=now - WINDOW_PAST, end=now + WINDOW_FUTURE)
        finally:
            keeper.update(client.tokens)
        if not result.delta_link:
            raise UserError(self.env._("Outlook did not return a delta link; the sync will start with all events."))
        empty = {"delta_link": result.delta_link, "links": [], "pending_remote": [], "excluded_local": []}
        self.sudo().delta_state = json.dumps(empty)
        _logger.info(
            "Outlook sync of %s starts from now: %s existing Outlook event(s) left alone",
            self.user_id.login,
            len(result.events),
        )

    def _read_mailbox(self, graph_config, keeper):
        """The signed-in mailbox's address, for an account connected before it was recorded."""
        client = outlook_sync.GraphClient(graph_config, keeper.latest)
        try:
            profile = client.me()
        finally:
            keeper.update(client.tokens)
        mailbox = profile.get("mail") or profile.get("userPrincipalName")
        if not mailbox:
            raise UserError(self.env._("Outlook did not say which mailbox this account is connected to."))
        self.sudo().mailbox = mailbox
        return mailbox

    # -- applying Outlook's changes to Odoo ----------------------------------------------------------------
    def _apply_local_ops(self, result):
        """Applies the engine's Odoo writes. New events, single or recurring, are created first, in batches that
        share Odoo's per-call work (see ``_create_events``); a batch Odoo refuses is retried in halves down to the
        event it refuses, which fails on its own savepoint, so that one refused write never undoes the others.
        Returns (counts per action, failures as readable lines)."""
        Event = (
            self.env["calendar.event"]
            .sudo()
            .with_context(
                active_test=False,
                no_mail_to_attendees=True,
                mail_create_nolog=True,
                mail_create_nosubscribe=True,
                mail_notrack=True,
                tracking_disable=True,
                **{APPLYING_CONTEXT_KEY: True},
            )
        )
        applying = Applying(result["state"], Lookups(Event.env))
        ops = result["local_ops"]
        creates = [op for op in ops if op["action"] == "create"]
        for start in range(0, len(creates), CREATE_BATCH):
            self._create_in_halves(Event, creates[start : start + CREATE_BATCH], applying)
        for op in ops:
            if op["action"] != "create":
                self._apply_one(Event, op, applying)
        _schedule_reminders(Event.browse(applying.created_ids))
        result["report"]["unsupported"].extend(applying.not_synced)
        return applying.applied, applying.failures

    def _create_in_halves(self, Event, ops, applying):
        """Creates the events of ``ops`` in one batch. A batch Odoo refuses is split in two and each half tried
        again, down to the event Odoo refuses, which fails alone like any other write: one bad event among
        hundreds costs a few more batches, not hundreds of single creates."""
        if len(ops) == 1:
            self._apply_one(Event, ops[0], applying)
        elif self._create_batch(Event, ops, applying):
            applying.applied["create"] += len(ops)
        else:
            middle = len(ops) // 2
            self._create_in_halves(Event, ops[:middle], applying)
            self._create_in_halves(Event, ops[middle:], applying)

    def _create_batch(self, Event, ops, applying):
        """Creates the events of ``ops`` in one go; False (nothing kept) if Odoo refuses any of them."""
        user = self.user_id
        try:
            with self.env.cr.savepoint():
                prepared = [write_values(Event.env, op["values"], user, applying.lookups) for op in ops]
                events = _create_events(Event, [vals for vals, _states in prepared])
                not_synced = []
                for event, op in zip(events, ops, strict=True):
                    not_synced += _not_synced(op, apply_occurrences(event, op["values"], user, applying.lookups))
                _write_attendee_states(events, [states for _vals, states in prepared])
                links = []
                for event, op in zip(events, ops, strict=True):
                    if op.get("link") is not None:
                        links.append(self._link_for(event, op["link"]))
        except Exception:  # retried in halves, down to the refused event, which is reported on its own
            applying.lookups.forget()
            _logger.info(
                "Outlook sync of %s: a batch of %s creates was refused, retrying it in halves", user.login, len(ops)
            )
            return False
        applying.state["links"].extend(links)
        applying.created_ids.extend(events.ids)
        applying.not_synced.extend(not_synced)
        return True

    def _apply_one(self, Event, op, applying):
        try:
            with self.env.cr.savepoint():
                event = self._apply_local_op(Event, op, applying)
                if op.get("link") is not None:
                    applying.state["links"].append(self._link_for(event, op["link"]))
            applying.applied[op["action"]] += 1
            if op["action"] == "create":
                applying.created_ids.extend(event.ids)
        except Exception as error:  # any refusal by Odoo: reported, retried next run
            applying.lookups.forget()
            label = (op.get("values") or {}).get("name") or op.get("remote_id") or op.get("local_id")
            applying.failures.append(
                self.env._(
                    "Odoo %(action)s of %(label)s failed: %(error)s", action=op["action"], label=label, error=error
                )
            )
            _logger.warning(
                "Outlook sync of %s: Odoo %s of %s failed", self.user_id.login, op["action"], label, exc_info=True
            )
            self._keep_unapplied(applying.state, op)

    def _apply_local_op(self, Event, op, applying):
        user, lookups = self.user_id, applying.lookups
        action = op["action"]
        if action == "create":
            vals, states = write_values(Event.env, op["values"], user, lookups)
            event = _create_events(Event, [vals])
            applying.not_synced += _not_synced(op, apply_occurrences(event, op["values"], user, lookups))
            _write_attendee_states(event, [states])
            return event
        event = Event.browse(op["local_id"]).exists()
        if action == "delete":
            if event and self._is_someone_elses(event):
                # The user removed their copy of a meeting Odoo also holds for others: for them it stands.
                event.attendee_ids.filtered(lambda a: a.partner_id == user.partner_id).state = "declined"
                return event.browse()
            if event.recurrence_id:
                event = event.recurrence_id.with_context(active_test=False).calendar_event_ids | event
            event.unlink()
            return event.browse()
        if not event:
            raise UserError(self.env._("the Odoo event %(id)s no longer exists", id=op["local_id"]))
        vals, states = write_values(Event.env, op["values"], user, lookups)
        changed = _changed_values(event, vals)
        if changed and event.recurrency and not (SERIES_SHAPE_FIELDS & changed.keys()):
            # A series renamed, moved to another room...: Odoo's "all events" update would re-create every
            # occurrence (new ids, new attendees) for that; writing the field on each occurrence is what it means.
            event.recurrence_id.calendar_event_ids.filtered("active").write(changed)
        elif changed:
            if event.recurrency:
                changed["recurrence_update"] = "all_events"
            event.write(changed)
        applying.not_synced += _not_synced(op, apply_occurrences(event, op["values"], user, lookups))
        _write_attendee_states(event, [states])
        return event

    def _is_someone_elses(self, event):
        """Whether ``event`` is a meeting of another Odoo user, or linked to another synced mailbox too."""
        if event.user_id and event.user_id != self.user_id:
            return True
        return bool(
            self.env["outlook.sync.link"]
            .sudo()
            .search_count([("event_id", "=", event.id), ("account_id", "!=", self.id)], limit=1)
        )

    def _link_for(self, event, link):
        """The engine's link for a write that succeeded, with the record's id and the hash of what Odoo holds."""
        link = dict(link)
        link["local_id"] = str(event.id)
        link["local_hash"] = content_hash(event, self.user_id, link.get("ical_uid"))
        return link

    @staticmethod
    def _keep_unapplied(state, op):
        """The engine's failure path: keep the previous link, and read the Outlook event again next run (the delta
        link stored now has moved past its change)."""
        previous = op.get("previous")
        remote_id = op.get("remote_id") or (previous or {}).get("remote_id")
        if previous:
            state["links"].append(previous)
        if remote_id and remote_id not in state["pending_remote"]:
            state["pending_remote"].append(remote_id)

    # -- the state kept for the next run -------------------------------------------------------------------
    def _store_state(self, result, local):
        """Stores the engine's state and mirrors its links on ``outlook.sync.link`` (what change tracking, Reset
        Account and the other mailboxes of a meeting read), clearing what this run carried over."""
        account = self.sudo()
        state = result["state"]
        retry = set(result["retry_local"])
        listed = {item["values"]["id"] for item in local.get("events", local.get("changed", []))}
        listed |= set(local.get("deleted", []))
        linked = {int(link["local_id"]): link for link in state["links"] if link["local_id"].isdigit()}
        existing_events = self.env["calendar.event"].sudo().with_context(active_test=False).browse(linked).exists()
        rows = {row.event_id.id: row for row in account.link_ids}
        Link = self.env["outlook.sync.link"].sudo()
        new_rows = []
        now = fields.Datetime.now()
        for event_id, link in linked.items():
            values = {
                "remote_id": link["remote_id"],
                "ical_uid": link.get("ical_uid") or False,
                "content_hash": link["local_hash"],
            }
            row = rows.pop(event_id, None)
            if row is None:
                if event_id in existing_events.ids:
                    new_rows.append({"account_id": account.id, "event_id": event_id, "synced_at": now, **values})
                continue
            if row.dirty and event_id in listed and event_id not in retry:
                values["dirty"] = False
            if any(row[name] != value for name, value in values.items()):
                row.write({**values, "synced_at": now})
        Link.create(new_rows)
        # Rows the engine does not link: kept while their change waits for a retry, otherwise done with.
        Link.browse(
            row.id
            for event_id, row in rows.items()
            if event_id not in retry and not (row.dirty and event_id not in listed)
        ).unlink()
        account._tombstones().filtered(lambda t: t.odoo_event_id not in retry).unlink()
        account.write(
            {
                "delta_state": json.dumps(state, separators=(",", ":")),
                "full_sync_needed": False,
                "dirty": bool(retry) or bool(account.link_ids.filtered("dirty")),
            }
        )

    # -- what the log says ---------------------------------------------------------------------------------
    def _conflict_line(self, conflict):
        """A conflict as a person reads it: which event, what happened, whose version was kept and why."""
        _ = self.env._
        detail = conflict["conflict"]
        kinds = {
            "both_modified": _("changed in Odoo and in Outlook since the last sync"),
            "modified_vs_deleted": _("deleted on one side and changed on the other"),
            "linked_with_differences": _("found on both sides with differences"),
        }
        reasons = {
            "local_wins_policy": _("the Odoo-wins policy"),
            "remote_wins_policy": _("the Outlook-wins policy"),
            "newer_edit": _("the more recent edit"),
            "tie_goes_to_remote": _("edit times equal or unknown"),
            "modification_beats_deletion": _("a change beats a deletion"),
        }
        return _(
            "Conflict on %(event)s, %(kind)s: %(winner)s version kept (%(reason)s); the other version was: %(lost)s",
            event=_lost_label(conflict),
            kind=kinds.get(detail["kind"], detail["kind"]),
            winner=_("the Odoo") if detail["winner"] == "local" else _("the Outlook"),
            reason=reasons.get(detail["resolution"], detail["resolution"]),
            lost=json.dumps(conflict.get("lost"), ensure_ascii=False)[:300],
        )

    def _outcome(self, report, applied, failures, mailbox):
        _ = self.env._
        failures = [
            _(
                "%(side)s %(action)s of %(label)s failed: %(reason)s",
                side="Odoo" if failure["side"] == "local" else "Outlook",
                action=failure["action"],
                label=failure.get("label") or failure.get("remote_id") or failure.get("local_id") or "?",
                reason=failure["reason"],
            )
            for failure in report["failures"]
        ] + failures
        mails = report["mails"]
        mail_count = mails["invitations"] + mails["updates"] + mails["cancellations"] + mails.get("responses", 0)
        counts = {
            "odoo_created": applied["create"],
            "odoo_updated": applied["update"],
            "odoo_deleted": applied["delete"],
            "outlook_created": report["remote"]["created"],
            "outlook_updated": report["remote"]["updated"],
            "outlook_deleted": report["remote"]["deleted"],
            "mail_count": mail_count,
        }
        lines = [
            _(
                "Odoo: %(oc)s created, %(ou)s updated, %(od)s deleted. Outlook: %(rc)s created, %(ru)s updated, "
                "%(rd)s deleted. Mails: %(mails)s (%(inv)s invitations, %(upd)s updates, %(can)s cancellations, "
                "%(resp)s answers to organizers).",
                oc=counts["odoo_created"],
                ou=counts["odoo_updated"],
                od=counts["odoo_deleted"],
                rc=counts["outlook_created"],
                ru=counts["outlook_updated"],
                rd=counts["outlook_deleted"],
                mails=mail_count,
                inv=mails["invitations"],
                upd=mails["updates"],
                can=mails["cancellations"],
                resp=mails.get("responses", 0),
            )
        ]
        if failures:
            lines.append(_("%(count)s item(s) failed and will be retried at the next run:", count=len(failures)))
            lines += [f"- {line}" for line in failures[:MESSAGE_DETAILS]]
        lines += [self._conflict_line(conflict) for conflict in report["conflicts"][:MESSAGE_DETAILS]]
        if report.get("excluded_by_first_sync"):
            lines.append(
                _(
                    "%(count)s event(s) that existed in Odoo before this first sync were kept out of Outlook (setting "
                    "'Existing Odoo events at a first sync').",
                    count=report["excluded_by_first_sync"],
                )
            )
        for note in report.get("attendee_notes", [])[:MESSAGE_DETAILS]:
            lines.append(
                _("Meeting you attend, %(label)s: %(reason)s", label=note.get("label") or "?", reason=note["reason"])
            )
        notice_kinds = {
            "deleted_after_unanswered_edit": _(
                "deleted in Outlook after an edit from Odoo was sent to it by a sync run that stopped before Outlook "
                "confirmed it; the deletion was taken as the later change and the event was deleted in Odoo. Its Odoo "
                "content was: %(lost)s"
            ),
        }
        for notice in report.get("notices", [])[:MESSAGE_DETAILS]:
            lost = json.dumps(notice.get("lost"), ensure_ascii=False)[:300]
            template = notice_kinds.get(notice["kind"])
            text = template % {"lost": lost} if template else f"{notice['reason']} ({lost})"
            lines.append(_("Note on %(label)s: %(text)s", label=notice.get("label") or "?", text=text))
        for item in report["unsupported"][:MESSAGE_DETAILS]:
            lines.append(
                _(
                    "Not synced: %(label)s: %(reason)s",
                    label=item.get("label") or item["remote_id"],
                    reason=item["reason"],
                )
            )
        return {
            "status": "partial" if failures else "success",
            "state": "connected",
            "mailbox": mailbox,
            "message": "\n".join(lines),
            "failures": len(failures),
            "counts": counts,
        }


def _create_events(Event, vals_list):
    """Creates the events of ``vals_list`` (from ``write_values``), recurring ones included, in as few ``create``
    calls as Odoo allows, and returns them in order.

    Odoo's own ``create`` expands each series alone: one recurrence and one ``create`` of its occurrences (with
    their attendees and followers) per series. Here the series are created as plain events first, then given their
    rules a group of identical rules at a time, through the same ``_apply_recurrence_values`` Odoo's ``create``
    calls: the occurrences of a whole group come from one ``create``. Reminders are not scheduled here
    (``dont_notify``, as Odoo's own calendar syncs do), but once per run by ``_schedule_reminders``."""
    Event = Event.with_context(dont_notify=True)
    recurrent_fields = Event._get_recurrent_fields()
    rules = []
    for vals in vals_list:
        rule = {}
        # Popped from all: Odoo's ``create`` returns recurring events after the others, and ``events`` must keep
        # the order of ``vals_list``.
        if vals.pop("recurrency", False):
            rule = {name: vals.pop(name) for name in sorted(recurrent_fields) if name in vals}
        rules.append(rule)
    events = Event.create(vals_list)
    series = defaultdict(list)
    for event, rule in zip(events, rules, strict=True):
        if rule:
            series[tuple(rule.items())].append(event.id)
    for rule, ids in series.items():
        Event.browse(ids)._apply_recurrence_values(dict(rule))
    return events


def _not_synced(op, reasons):
    """``reasons`` an op's series could not hold, as the report's "unsupported" entries."""
    return [
        {"remote_id": op.get("remote_id"), "label": (op.get("values") or {}).get("name"), "reason": reason}
        for reason in reasons
    ]


def _write_attendee_states(events, states_list):
    """Gives the attendees of each event of ``events`` the states Outlook says (``{partner_id: state}``, one dict
    per event), with one write per state rather than one per attendee."""
    by_state = defaultdict(list)
    for event, states in zip(events, states_list, strict=True):
        for attendee in event.attendee_ids:
            state = states.get(attendee.partner_id.id)
            if state and attendee.state != state:
                by_state[state].append(attendee.id)
    Attendee = events.env["calendar.attendee"]
    for state, ids in by_state.items():
        Attendee.browse(ids).write({"state": state})


def _schedule_reminders(events):
    """What Odoo's ``create`` does for reminders, once for all the events a run created instead of once per
    ``create``: triggers of the alarm cron (per series for a recurrence) and the attendees' next notification."""
    events = events.exists()
    recurring = events.filtered("recurrence_id")
    recurring.recurrence_id._setup_alarms()
    (events - recurring)._setup_alarms()


def _lost_label(conflict):
    lost = conflict.get("lost") or {}
    return lost.get("name") or lost.get("subject") or conflict["conflict"]["local"]["id"]


def _changed_values(event, vals):
    """The part of ``vals`` that differs from ``event``: Odoo re-creates a whole series when its times are written,
    and logs every write, so only real changes are written."""
    changed = {}
    for name, value in vals.items():
        field = event._fields[name]
        current = event[name]
        if field.type in ("many2many", "one2many"):
            if set(value[0][2]) != set(current.ids):
                changed[name] = value
        elif field.type == "many2one":
            if (value or False) != current.id:
                changed[name] = value
        elif field.type == "datetime":
            if (fields.Datetime.to_string(current) if current else False) != (value or False):
                changed[name] = value
        elif field.type == "date":
            if (fields.Date.to_string(current) if current else False) != (value or False):
                changed[name] = value
        elif field.type == "html":
            if (str(current) if current else False) != (value or False):
                changed[name] = value
        elif (current or False) != (value or False):
            changed[name] = value
    return changed
