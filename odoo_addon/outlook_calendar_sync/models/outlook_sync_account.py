"""One Outlook connection per Odoo user: its tokens, its state, and the service method that runs a sync."""

import logging
from datetime import timedelta, timezone

from odoo import api, fields, models, modules
from odoo.exceptions import AccessError, UserError

import outlook_sync

_logger = logging.getLogger(__name__)

STATES = [
    ("not_connected", "Not connected"),
    ("connected", "Connected"),
    ("error", "Error"),
    ("reconnect", "Reconnection needed"),
    ("stopped", "Stopped"),
]
# Accounts the cron runs.
RUNNABLE_STATES = ("connected", "error")
# Accounts that collect local changes: a broken connection still queues them, so nothing is lost once the user
# reconnects. Stopped or disconnected accounts do not: restarting or connecting starts with a full pass.
TRACKING_STATES = ("connected", "error", "reconnect")


def _auto_commit():
    """Whether a run may commit between users (never inside Odoo's test transaction)."""
    return not modules.module.current_test


class OutlookSyncAccount(models.Model):
    _name = "outlook.sync.account"
    _description = "Outlook Calendar connection"
    _rec_name = "user_id"
    _order = "id"

    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", index=True, readonly=True)
    state = fields.Selection(STATES, required=True, default="not_connected", readonly=True)
    mailbox = fields.Char(readonly=True, help="The Outlook address this account is connected to.")
    access_token = fields.Char(groups="base.group_system", copy=False, readonly=True)
    refresh_token = fields.Char(groups="base.group_system", copy=False, readonly=True)
    token_expires_at = fields.Datetime(groups="base.group_system", copy=False, readonly=True)
    delta_state = fields.Text(
        groups="base.group_system", copy=False, readonly=True, help="Opaque sync state kept for the next run."
    )
    next_sync_mode = fields.Selection(
        [("all", "Synchronize all existing events"), ("new", "Synchronize only new events")],
        default="all",
        required=True,
        readonly=True,
    )
    sync_from = fields.Datetime(
        readonly=True, help="With 'Synchronize only new events': events created before this moment are left alone."
    )
    full_sync_needed = fields.Boolean(default=True, readonly=True)
    dirty = fields.Boolean(readonly=True, help="Local changes are waiting to be sent to Outlook.")
    last_run_at = fields.Datetime(readonly=True)
    last_sync_at = fields.Datetime(readonly=True, help="Last run that exchanged events with Outlook.")
    last_summary = fields.Char(readonly=True)
    last_error = fields.Text(readonly=True)
    last_error_at = fields.Datetime(readonly=True)
    link_ids = fields.One2many("outlook.sync.link", "account_id", readonly=True)
    log_ids = fields.One2many("outlook.sync.log", "account_id", readonly=True)

    _sql_constraints = [
        ("user_unique", "unique(user_id)", "A user has at most one Outlook Calendar connection."),
    ]

    # -- rights -----------------------------------------------------------------------------------------------
    def _check_manage_rights(self):
        """A user manages only their own connection; system administrators manage everyone's."""
        user = self.env.user
        if user._is_system():
            return
        if not user._is_internal() or any(account.user_id != user for account in self):
            raise AccessError(self.env._("You can only manage your own Outlook Calendar connection."))

    @api.model
    def _for_user(self, user):
        """The account of ``user``, created on first use (bookkeeping, so with elevated rights)."""
        account = self.sudo().search([("user_id", "=", user.id)], limit=1)
        if not account:
            account = self.sudo().create({"user_id": user.id})
        return account.with_env(self.env)

    # -- tokens -----------------------------------------------------------------------------------------------
    def _tokens(self):
        """This account's tokens as ``outlook_sync.Tokens``; a UserError when the user never connected."""
        self.ensure_one()
        account = self.sudo()
        if not account.refresh_token and not account.access_token:
            raise UserError(
                self.env._("%(user)s has not connected an Outlook account.", user=self.user_id.display_name)
            )
        expires_at = (account.token_expires_at or fields.Datetime.now()).replace(tzinfo=timezone.utc)
        return outlook_sync.Tokens(account.access_token or "", account.refresh_token or None, expires_at)

    def _store_tokens(self, tokens):
        """Persist ``tokens`` (an ``outlook_sync.Tokens``), e.g. after the client rotated them."""
        self.ensure_one()
        # Odoo stores datetimes to the second; compare at that precision so unchanged tokens are not rewritten.
        expires_at = tokens.expires_at.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0)
        values = {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token or self.sudo().refresh_token,
            "token_expires_at": expires_at,
        }
        account = self.sudo()
        if any(account[name] != value for name, value in values.items()):
            account.write(values)

    def _connect(self, tokens, mailbox=None):
        """Record a completed OAuth consent: store the tokens and schedule a first (full) pass."""
        self.ensure_one()
        if mailbox and self.mailbox and mailbox.lower() != self.mailbox.lower():
            # Graph ids belong to one mailbox: what was recorded for the previous one means nothing here.
            _logger.info(
                "Outlook account of %s switched from %s to %s: its sync state starts over",
                self.user_id.login,
                self.mailbox,
                mailbox,
            )
            self._forget_sync_state()
        self._store_tokens(tokens)
        self.sudo().write(
            {
                "state": "connected",
                "mailbox": mailbox or self.mailbox,
                "full_sync_needed": True,
                "last_error": False,
                "last_error_at": False,
            }
        )
        self._trigger_cron()

    def _disconnect(self):
        """Forget the tokens, the sync state and the status records: the user must connect again."""
        self.sudo().write(
            {
                "state": "not_connected",
                "access_token": False,
                "refresh_token": False,
                "token_expires_at": False,
                "delta_state": False,
                "full_sync_needed": True,
                "dirty": False,
                "last_sync_at": False,
                "last_summary": False,
                "last_error": False,
                "last_error_at": False,
            }
        )
        self._forget_sync_state()

    def _forget_sync_state(self):
        """Drop the delta state, status records and pending deletions: the next run is a first sync."""
        self.sudo().write({"delta_state": False, "full_sync_needed": True})
        self.sudo().link_ids.unlink()
        self.env["outlook.sync.tombstone"].sudo().search([("account_id", "in", self.ids)]).unlink()

    # -- actions (own account, or any for administrators) ----------------------------------------------------
    def action_stop(self):
        """Stop this account's sync; tokens stay, so a restart needs no new consent."""
        self._check_manage_rights()
        self.sudo().write({"state": "stopped", "dirty": False})
        for account in self:
            _logger.info("Outlook sync stopped for %s by %s", account.user_id.login, self.env.user.login)
        return True

    def action_restart(self):
        """Restart a stopped account (or retry a failed one) with a full pass, so nothing changed meanwhile is
        missed."""
        self._check_manage_rights()
        for account in self:
            has_tokens = bool(account.sudo().refresh_token or account.sudo().access_token)
            account.sudo().write({"state": "connected" if has_tokens else "not_connected", "full_sync_needed": True})
            _logger.info("Outlook sync restarted for %s by %s", account.user_id.login, self.env.user.login)
        self._trigger_cron()
        return True

    def action_sync_now(self):
        """Run a sync of this account now (the Outlook button)."""
        self._check_manage_rights()
        config = self.env["outlook.sync.config"]
        if config._is_paused():
            raise UserError(
                self.env._(
                    "Outlook sync is paused by an administrator. Your changes are kept and will be sent when it "
                    "resumes."
                )
            )
        for account in self:
            if account.state not in RUNNABLE_STATES:
                raise UserError(
                    self.env._(
                        "The Outlook connection of %(user)s is %(state)s: connect or restart it first.",
                        user=account.user_id.display_name,
                        state=dict(STATES)[account.state].lower(),
                    )
                )
            account._run_sync(trigger="button")
        return True

    # -- what the calendar's Outlook button calls -----------------------------------------------------------
    @api.model
    def get_outlook_status(self):
        """Everything the Outlook button shows, for the current user; never a token."""
        user = self.env.user
        config = self.env["outlook.sync.config"]
        account = self.search([("user_id", "=", user.id)], limit=1)
        status = {
            "configured": config._is_configured(),
            "is_admin": user._is_system(),
            "paused": config._is_paused(),
            "state": account.state or "not_connected",
            "mailbox": account.mailbox or "",
            "last_run_at": fields.Datetime.to_string(account.last_run_at) if account.last_run_at else "",
            "last_sync_at": fields.Datetime.to_string(account.last_sync_at) if account.last_sync_at else "",
            "summary": account.last_summary or "",
            "error": account.last_error or "",
            "dirty": bool(account.dirty),
        }
        return status

    @api.model
    def action_sync_my_calendar(self):
        self._for_user(self.env.user).action_sync_now()
        return self.get_outlook_status()

    @api.model
    def action_stop_my_sync(self):
        self._for_user(self.env.user).action_stop()
        return self.get_outlook_status()

    @api.model
    def action_restart_my_sync(self):
        self._for_user(self.env.user).action_restart()
        return self.get_outlook_status()

    # -- local changes ---------------------------------------------------------------------------------------
    def _mark_dirty(self):
        """Queue a run soon after a local change; the run happens in the cron, never in the user's transaction."""
        to_mark = self.sudo().filtered(lambda account: account.state in TRACKING_STATES and not account.dirty)
        if to_mark:
            to_mark.write({"dirty": True})
            # Already-dirty accounts have a run scheduled: one trigger per batch of changes, not one per write.
            self._trigger_cron()

    @api.model
    def _trigger_cron(self):
        cron = self.env.ref("outlook_calendar_sync.ir_cron_outlook_sync", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()

    def _event_domain(self):
        """The events this account syncs: those the user organizes or attends."""
        self.ensure_one()
        domain = [
            "|",
            ("user_id", "=", self.user_id.id),
            ("partner_ids", "in", self.user_id.partner_id.ids),
        ]
        if self.next_sync_mode == "new" and self.sync_from:
            # From the next second: sync_from is kept to the second, create_date to the microsecond, and an event
            # made in the very second of the reset counts as made before it (never sent by surprise).
            domain = [*domain, ("create_date", ">=", self.sync_from + timedelta(seconds=1))]
        return domain

    # -- the sync run ----------------------------------------------------------------------------------------
    def _try_lock(self):
        """Take this account's row lock for the rest of the transaction; False if another run holds it."""
        self.ensure_one()
        self.env.cr.execute(
            "SELECT id FROM outlook_sync_account WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED", (self.id,)
        )
        return bool(self.env.cr.fetchone())

    def _failure(self, state, message):
        return {"status": "failed", "state": state, "message": message, "failures": 1}

    def _record_run(self, trigger, started_at, duration, local, outcome):
        self.ensure_one()
        # The message quotes event titles and Microsoft's words: a NUL character in them would make PostgreSQL
        # refuse the log itself, and lose the record of the run.
        outcome = dict(outcome, message=outcome["message"].replace("\x00", "\\0"))
        log = (
            self.env["outlook.sync.log"]
            .sudo()
            .create(
                {
                    "account_id": self.id,
                    "started_at": started_at,
                    "duration": duration,
                    "trigger": trigger,
                    "full_pass": local.get("kind") == "full",
                    "status": outcome["status"],
                    "message": outcome["message"],
                    "failure_count": outcome.get("failures", 0),
                    **outcome.get("counts", {}),
                }
            )
        )
        values = {"state": outcome["state"], "last_run_at": started_at}
        if outcome.get("mailbox"):
            values["mailbox"] = outcome["mailbox"]
        if outcome["status"] == "failed":
            values.update(last_error=outcome["message"], last_error_at=started_at)
        else:
            values.update(last_error=False, last_error_at=False, last_summary=outcome["message"])
        if outcome["status"] in ("success", "partial"):
            values["last_sync_at"] = started_at
        self.sudo().write(values)
        log_level = logging.WARNING if outcome["status"] == "failed" else logging.INFO
        _logger.log(log_level, "Outlook sync of %s (%s): %s", self.user_id.login, log.status, log.message)
        return log

    @api.model
    def _cron_sync_all(self):
        """Run every active account. One account's failure never stops the others."""
        config = self.env["outlook.sync.config"]
        if config._is_paused():
            _logger.info("Outlook sync is paused: local changes stay queued until it resumes")
            return
        if not config._is_configured():
            return
        for account in self.search([("state", "in", RUNNABLE_STATES)]):
            try:
                with self.env.cr.savepoint():
                    account._run_sync(trigger="cron")
            except Exception as error:
                _logger.exception("Outlook sync of %s failed unexpectedly", account.user_id.login)
                account._record_run(
                    "cron",
                    fields.Datetime.now(),
                    0.0,
                    {"kind": "full" if account.full_sync_needed else "delta"},
                    self._failure(
                        "error",
                        self.env._(
                            "Unexpected error (%s): see the server log, and report it if it persists.",
                            type(error).__name__,
                        ),
                    ),
                )
            if _auto_commit():
                # Each user's result is kept on its own, and the account's row lock is released.
                self.env.cr.commit()
