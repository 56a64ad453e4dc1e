"""The two contenders, each behind the same small interface, run inside an Odoo registry.

``Ours`` drives ``outlook_calendar_sync`` (connect with emulator tokens, ``_run_sync``); ``Incumbent`` drives
Odoo 18's ``microsoft_calendar`` the way its cron does (``_sync_microsoft_calendar`` per user, then commit, which
runs its post-commit pushes). Both are pointed at the emulator by configuration where the module allows it and,
for the incumbent's hard-coded Microsoft hosts, by rewriting URLs inside this process only.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from checks import OdooEvent
from odoo import Command
from workload import GUEST_POOL, LOCATION, Item, guest_address

import outlook_sync

_logger = logging.getLogger("bench")

CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
# The emulator accepts any client secret unless one is configured; this one only has to be present.
CLIENT_SECRET = "bench-client-secret"  # noqa: S105


class Side:
    """What a workload needs from a module: connect a user, create events in Odoo, run a sync, list events."""

    name = ""

    def __init__(self, env, emulator):
        self.env = env
        self.emulator = emulator
        self.notes: list[str] = []
        self.refused_count = 0
        self.guest_ids: dict[str, int] = {}

    # -- setup -------------------------------------------------------------------------------------------------
    def configure(self) -> None:
        """Point the module at the emulator, and create the guests (outside any measurement)."""
        self._configure()
        self.guest_ids = self._guests()
        self.env.cr.commit()

    def _configure(self) -> None:
        raise NotImplementedError

    def user(self, login: str, mailbox: str):
        """The Odoo user ``login`` whose Outlook mailbox is ``mailbox``, connected with emulator-minted tokens."""
        Users = self.env["res.users"].with_context(no_reset_password=True)
        user = Users.search([("login", "=", login)], limit=1)
        if not user:
            user = Users.create(
                {
                    "name": login.replace("_", " ").title(),
                    "login": login,
                    "email": mailbox,
                    "tz": "UTC",
                    "groups_id": [Command.set([self.env.ref("base.group_user").id])],
                }
            )
            self.connect(user, mailbox)
        return user

    def connect(self, user, mailbox: str) -> None:
        raise NotImplementedError

    @staticmethod
    def _expiry(tokens: dict) -> datetime:
        return datetime.now(timezone.utc) + timedelta(seconds=int(tokens["expires_in"]))

    def _guests(self) -> dict[str, int]:
        """Partner ids of the guest addresses."""
        Partner = self.env["res.partner"]
        addresses = [guest_address(number) for number in range(GUEST_POOL)]
        partners = {p.email: p.id for p in Partner.search([("email", "in", addresses)])}
        for address in addresses:
            if address not in partners:
                partners[address] = Partner.create({"name": address.split("@")[0], "email": address}).id
        return partners

    # -- the measured parts ------------------------------------------------------------------------------------
    def create_events(self, user, batch: list[Item]) -> list[Item]:
        """Create ``batch`` in Odoo as ``user`` would (then commit); returns the items Odoo accepted."""
        Event = self.env["calendar.event"].with_user(user)
        singles = [item for item in batch if not item.recurring]
        series = [item for item in batch if item.recurring]
        Event.create([self._event_values(user, item) for item in singles])
        accepted = list(singles)
        self.env.cr.commit()
        for item in series:
            try:
                with self.env.cr.savepoint():
                    Event.create(self._event_values(user, item))
                accepted.append(item)
            except Exception as error:  # a module's refusal is a result, reported, not a crash
                self.refused(item, error)
        self.env.cr.commit()
        return accepted

    def refused(self, item: Item, error: Exception) -> None:
        kind = "recurring events" if item.recurring else "events"
        note = f"{kind} refused on create: {type(error).__name__}: {str(error).splitlines()[0]}"
        if note not in self.notes:
            self.notes.append(note)
        self.refused_count += 1

    def _event_values(self, user, item: Item) -> dict:
        values = {
            "name": item.subject,
            "start": item.start,
            "stop": item.stop,
            "location": LOCATION,
            "user_id": user.id,
            "partner_ids": [Command.set([user.partner_id.id, *(self.guest_ids[g] for g in item.guests)])],
        }
        if item.recurring:
            values.update(
                recurrency=True,
                rrule_type="weekly",
                interval=1,
                end_type="count",
                count=len(item.occurrences),
                event_tz="UTC",
                **{item.weekday[:3]: True},
            )
        return values

    def sync(self, user) -> None:
        """One sync of ``user`` as the module's cron runs it, committed."""
        raise NotImplementedError

    # -- what Odoo holds after a run -------------------------------------------------------------------------
    def odoo_events(self, prefix: str) -> list[OdooEvent]:
        events = self.env["calendar.event"].search([("name", "=like", f"{prefix}-%")])
        return [
            OdooEvent(
                event.name,
                event.start,
                f"recurrence/{event.recurrence_id.id}" if event.recurrence_id else f"event/{event.id}",
                self.ical_uid(event),
            )
            for event in events
        ]

    def ical_uid(self, event) -> str | None:
        raise NotImplementedError


class Ours(Side):
    name = "ours"

    def _configure(self) -> None:
        ICP = self.env["ir.config_parameter"].sudo()
        for key, value in {
            "enabled": "True",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "tenant": "common",
            "login_url": self.emulator.url,
            "graph_url": self.emulator.url,
        }.items():
            ICP.set_param(f"outlook_calendar_sync.{key}", value)

    def connect(self, user, mailbox: str) -> None:
        tokens = self.emulator.token(mailbox)
        account = self.env["outlook.sync.account"]._for_user(user)
        account._connect(
            outlook_sync.Tokens(tokens["access_token"], tokens["refresh_token"], self._expiry(tokens)),
            mailbox=mailbox,
        )
        self.env.cr.commit()

    def sync(self, user) -> None:
        account = self.env["outlook.sync.account"].search([("user_id", "=", user.id)])
        log = account._run_sync(trigger="cron")
        self.env.cr.commit()
        if log.status != "success":
            self.notes.append(f"sync {log.status}: {(log.message or '').splitlines()[0][:300]}")
            failures = [line for line in (log.message or "").splitlines() if line.startswith("- ")]
            self.notes.extend(failures[:3])

    def ical_uid(self, event) -> str | None:
        base = event.recurrence_id.base_event_id or event
        link = base.sudo().outlook_link_ids[:1]
        return link.ical_uid or None


class Incumbent(Side):
    name = "incumbent"

    def _configure(self) -> None:
        redirect_microsoft_to(self.emulator.url)
        ICP = self.env["ir.config_parameter"].sudo()
        ICP.set_param("microsoft_calendar_client_id", CLIENT_ID)
        ICP.set_param("microsoft_calendar_client_secret", CLIENT_SECRET)

    def connect(self, user, mailbox: str) -> None:
        tokens = self.emulator.token(mailbox)
        self.env["res.users.settings"]._find_or_create_for_user(user)
        user.sudo().write(
            {
                "microsoft_calendar_token": tokens["access_token"],
                "microsoft_calendar_rtoken": tokens["refresh_token"],
                "microsoft_calendar_token_validity": self._expiry(tokens).replace(tzinfo=None),
            }
        )
        self.env.cr.commit()

    def sync(self, user) -> None:
        # What `res.users._sync_all_microsoft_calendar` (the cron) does for one user: sync, commit (which runs the
        # post-commit pushes), and on failure log and roll back.
        try:
            user.with_user(user).sudo()._sync_microsoft_calendar()
            self.env.cr.commit()
        except Exception as error:
            _logger.warning("incumbent sync failed: %s", error, exc_info=True)
            self.env.cr.rollback()
            self.notes.append(f"sync raised {type(error).__name__}: {str(error).splitlines()[0][:200]}")

    def ical_uid(self, event) -> str | None:
        if event.recurrence_id:
            return event.recurrence_id.ms_universal_event_id or event.ms_universal_event_id or None
        return event.ms_universal_event_id or None


def redirect_microsoft_to(emulator_url: str) -> None:
    """Point the incumbent's hard-coded Microsoft endpoints at ``emulator_url``, in this process only.

    ``microsoft_service._do_request`` prepends ``https://graph.microsoft.com`` (a default argument, fixed at import)
    and asserts that every URL's host is the token endpoint's or Graph's. So: the token-endpoint constants (also
    the copy ``res_users`` imported) become the emulator's, which admits the emulator's host (its nextLinks), and
    requests' sessions rewrite the two Microsoft origins to the emulator. Odoo's files are not touched."""
    # Only the incumbent's database has these modules installed, so they are imported here, not at the top.
    import requests  # noqa: PLC0415
    from odoo.addons.microsoft_account.models import microsoft_service  # noqa: PLC0415
    from odoo.addons.microsoft_calendar.models import res_users  # noqa: PLC0415

    token_endpoint = f"{emulator_url}/common/oauth2/v2.0/token"
    microsoft_service.DEFAULT_MICROSOFT_TOKEN_ENDPOINT = token_endpoint
    microsoft_service.DEFAULT_MICROSOFT_AUTH_ENDPOINT = f"{emulator_url}/common/oauth2/v2.0/authorize"
    res_users.DEFAULT_MICROSOFT_TOKEN_ENDPOINT = token_endpoint

    origins = ("https://graph.microsoft.com", "https://login.microsoftonline.com")
    original = requests.sessions.Session.request
    if getattr(original, "_bench_redirect", False):
        return

    def request(self, method, url, *args, **kwargs):
        for origin in origins:
            if isinstance(url, str) and url.startswith(origin):
                url = emulator_url + url[len(origin) :]
        return original(self, method, url, *args, **kwargs)

    request._bench_redirect = True
    requests.sessions.Session.request = request


SIDES = {"ours": Ours, "incumbent": Incumbent}
