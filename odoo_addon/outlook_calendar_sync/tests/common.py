from datetime import datetime, timedelta, timezone

from odoo.tests.common import TransactionCase, new_test_user

import outlook_sync
from outlook_sync.emulator import Emulator

CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
CLIENT_SECRET = "test-client-secret"
ALICE = "alice@example.com"
CAROL = "carol@partner.example"
DAVE = "dave@partner.example"


def configure(env, url=None, **overrides):
    """Enable the addon with test credentials; ``url`` points both endpoints at an emulator."""
    params = {
        "enabled": "True",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "tenant": "common",
        "paused": False,
        **overrides,
    }
    if url:
        params.update(login_url=url, graph_url=url)
    ICP = env["ir.config_parameter"].sudo()
    for key, value in params.items():
        # Like the settings form: a false boolean is an absent parameter.
        ICP.set_param(f"outlook_calendar_sync.{key}", value)


def connect_with_emulator(env, emulator, user, mailbox=None):
    """``user``'s account, connected with real emulator tokens for the mailbox named like the user's e-mail
    (the consent flow itself is covered by the HTTP tests)."""
    tokens = emulator.token(user.email)
    account = env["outlook.sync.account"]._for_user(user)
    account._connect(
        outlook_sync.Tokens(
            tokens["access_token"],
            tokens.get("refresh_token"),
            datetime.now(timezone.utc) + timedelta(seconds=int(tokens["expires_in"])),
        ),
        mailbox=mailbox,
    )
    return account


class OutlookSyncCase(TransactionCase):
    """Users A and B (internal), a portal user and an administrator, with the addon configured."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        configure(cls.env)
        cls.user_a = new_test_user(cls.env, login="ocs_alice", email="alice@example.com", name="Alice")
        cls.user_b = new_test_user(cls.env, login="ocs_bob", email="bob@example.com", name="Bob")
        cls.portal = new_test_user(cls.env, login="ocs_portal", groups="base.group_portal", email="p@example.com")
        cls.admin = new_test_user(
            cls.env, login="ocs_admin", groups="base.group_user,base.group_system", email="admin@example.com"
        )
        cls.Account = cls.env["outlook.sync.account"]

    @classmethod
    def connected_account(cls, user, access_token="at", refresh_token="rt", expires_in=3600):
        account = cls.env["outlook.sync.account"]._for_user(user).sudo()
        account.write(
            {
                "state": "connected",
                "access_token": access_token,
                "refresh_token": refresh_token,
                "token_expires_at": datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(seconds=expires_in),
            }
        )
        return account

    def event(self, user, name="Meeting", partners=None, **values):
        start = datetime(2026, 12, 1, 9, 0)
        return (
            self.env["calendar.event"]
            .with_user(user)
            .create(
                {
                    "name": name,
                    "start": start,
                    "stop": start + timedelta(hours=1),
                    "partner_ids": [(6, 0, (partners or user.partner_id).ids)],
                    **values,
                }
            )
        )


class EmulatorCase(OutlookSyncCase):
    """An in-process Graph emulator, with both endpoints pointing at it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = Emulator.start()
        cls.addClassCleanup(cls.emulator.stop)
        cls.addClassCleanup(cls._drop_sent_journal)
        configure(cls.env, cls.emulator.url)

    def setUp(self):
        super().setUp()
        self.emulator.reset()

    @classmethod
    def _drop_sent_journal(cls):
        """The sent journal commits on a connection of its own (outside the test's transaction, as in production):
        its rows for accounts that were never committed are dropped at the end."""
        with cls.registry.cursor() as cr:
            cr.execute(
                "DELETE FROM outlook_sync_sent s WHERE NOT EXISTS "
                "(SELECT 1 FROM outlook_sync_account a WHERE a.id = s.account_ref)"
            )

    def emulator_account(self, user):
        return connect_with_emulator(self.env, self.emulator, user)

    def sync(self):
        """A run of the test's ``self.account``, which must succeed."""
        log = self.account._run_sync()
        self.assertEqual(log.status, "success", log.message)
        return log

    def outlook_client(self, mailbox):
        """A Graph client for ``mailbox``, for a test to act as that person in Outlook."""
        return outlook_sync.GraphClient(
            self.env["outlook.sync.config"]._graph_config(),
            outlook_sync.Tokens(
                self.emulator.token(mailbox)["access_token"], None, datetime.now(timezone.utc) + timedelta(hours=1)
            ),
        )


class GuestsCase(EmulatorCase):
    """Carol and Dave, two partners outside the company, to invite."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.carol = cls.env["res.partner"].create({"name": "Carol", "email": CAROL})
        cls.dave = cls.env["res.partner"].create({"name": "Dave", "email": DAVE})


class SeriesCase(GuestsCase):
    """Alice's synced account and a daily series of four with Carol and Dave invited, for the series tests."""

    def setUp(self):
        super().setUp()
        # 09:00 UTC is the same day in Brussels all year: the dates below are the series' own.
        self.start = (datetime.now() + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
        self.days = [(self.start + timedelta(days=n)).date() for n in range(4)]
        self.account = self.emulator_account(self.user_a)

    def assert_idle(self):
        self.emulator.clear_requests()
        log = self.sync()
        self.assertEqual(
            (log.outlook_created, log.outlook_updated, log.outlook_deleted, log.odoo_updated), (0, 0, 0, 0), log.message
        )
        self.assertEqual(self.emulator.requests()["total"], 1, "an idle run costs one delta request")
        self.assertEqual(self.emulator.outbox(), [])

    def mails(self):
        mails = sorted((mail["kind"], mail["to"].lower()) for mail in self.emulator.outbox())
        self.emulator.clear_outbox()
        return mails

    def client(self):
        return self.outlook_client(ALICE)

    def master(self):
        [master] = [event for event in self.emulator.events(ALICE) if event.get("type") == "seriesMaster"]
        return master

    def daily_series(self):
        return (
            self.env["calendar.event"]
            .with_user(self.user_a)
            .create(
                {
                    "name": "Daily standup",
                    "start": self.start,
                    "stop": self.start + timedelta(minutes=15),
                    "partner_ids": [(6, 0, (self.user_a.partner_id | self.carol | self.dave).ids)],
                    "recurrency": True,
                    "rrule_type": "daily",
                    "interval": 1,
                    "end_type": "count",
                    "count": 4,
                    "event_tz": "Europe/Brussels",
                }
            )
        )

    def outlook_series(self, pattern=None):
        """A series of four made in Outlook with Carol invited (daily unless ``pattern`` says otherwise), synced to
        Odoo; returns its Odoo base event."""
        stamp = "%Y-%m-%dT%H:%M:%S"
        self.emulator.seed(
            ALICE,
            [
                {
                    "subject": "Daily standup",
                    "start": {"dateTime": self.start.strftime(stamp), "timeZone": "UTC"},
                    "end": {"dateTime": (self.start + timedelta(minutes=15)).strftime(stamp), "timeZone": "UTC"},
                    "attendees": [{"emailAddress": {"address": CAROL, "name": "Carol"}, "type": "required"}],
                    "recurrence": {
                        "pattern": pattern or {"type": "daily", "interval": 1},
                        "range": {
                            "type": "numbered",
                            "startDate": self.days[0].isoformat(),
                            "numberOfOccurrences": 4,
                            "recurrenceTimeZone": "UTC",
                        },
                    },
                }
            ],
        )
        log = self.sync()
        self.assertEqual(log.odoo_created, 1, log.message)
        [base] = self.account.sudo().link_ids.filtered("remote_id").event_id
        return base
