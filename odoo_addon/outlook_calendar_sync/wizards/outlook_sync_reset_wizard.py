"""Reset Account: disconnect a user's Outlook account, optionally deleting their events on either side."""

import logging

from odoo import fields, models
from odoo.exceptions import AccessError, UserError

import outlook_sync

from ..models.calendar_event import KEEP_REMOTE_CONTEXT_KEY

_logger = logging.getLogger(__name__)

# Graph's $batch takes at most 20 requests.
BATCH_SIZE = 20


class OutlookSyncResetWizard(models.TransientModel):
    _name = "outlook.sync.reset.wizard"
    _description = "Reset Outlook Calendar Account"

    user_id = fields.Many2one("res.users", required=True, ondelete="cascade")
    delete_policy = fields.Selection(
        [
            ("dont_delete", "Leave them untouched"),
            ("delete_microsoft", "Delete from the current Microsoft Calendar account"),
            ("delete_odoo", "Delete from Odoo"),
            ("delete_both", "Delete from both"),
        ],
        string="User's Existing Events",
        required=True,
        default="dont_delete",
        help="This only affects the synced events the user organizes; events they only attend are kept.",
    )
    sync_policy = fields.Selection(
        [("new", "Synchronize only new events"), ("all", "Synchronize all existing events")],
        string="Next Synchronization",
        required=True,
        default="new",
    )

    def _organized_links(self, account):
        """The synced events the user organizes, as their links in the user's own mailbox."""
        return (
            self.env["outlook.sync.link"]
            .sudo()
            .search(
                [
                    ("account_id", "=", account.id),
                    ("event_id.user_id", "=", self.user_id.id),
                ]
            )
        )

    def action_confirm(self):
        self.ensure_one()
        if not self.env.user._is_system():
            raise AccessError(self.env._("Only administrators can reset an Outlook Calendar account."))
        account = self.env["outlook.sync.account"]._for_user(self.user_id)
        # Hold the account as a sync run does. A run in progress would push back what this deletes, and this
        # transaction's UPDATE of the account would wait for the run, then fail on a serialization error that Odoo
        # logs at ERROR with the query's values (tokens the wizard refreshed among them) before retrying it all.
        if not account._try_lock():
            raise UserError(
                self.env._(
                    "A sync of %(user)s's Outlook calendar is running right now. Wait until it ends, then reset the "
                    "account again.",
                    user=self.user_id.display_name,
                )
            )
        links = self._organized_links(account)
        if self.delete_policy in ("delete_microsoft", "delete_both"):
            refused = self._delete_from_outlook(account, links.filtered("remote_id"))
            if refused:
                # Said in a notification, not raised: raising would roll back the refresh token Microsoft may have
                # just rotated, and the account would need a new sign-in. Nothing else was changed in Odoo.
                return {
                    "type": "ir.actions.client",
                    "tag": "display_notification",
                    "params": {
                        "title": self.env._("Reset Account not done"),
                        "message": refused,
                        "type": "danger",
                        "sticky": True,
                    },
                }
        if self.delete_policy in ("delete_odoo", "delete_both"):
            events = links.event_id
            # A series is linked through its base event; all of its events go.
            events |= events.recurrence_id.with_context(active_test=False).calendar_event_ids
            # The user's own Outlook copies were handled above (or are deliberately kept); the copies in other
            # synced mailboxes (attendees') follow the deletion at their next run, as for any deletion.
            events.with_context(**{KEEP_REMOTE_CONTEXT_KEY: account.id}).sudo().unlink()
        account._disconnect()
        account.sudo().write(
            {
                "next_sync_mode": self.sync_policy,
                "sync_from": fields.Datetime.now() if self.sync_policy == "new" else False,
            }
        )
        _logger.info(
            "Outlook account of %s reset by %s (events: %s, next sync: %s)",
            self.user_id.login,
            self.env.user.login,
            self.delete_policy,
            self.sync_policy,
        )
        return {"type": "ir.actions.act_window_close"}

    def _delete_from_outlook(self, account, links):
        """Delete these events from the TARGET user's mailbox with the target's own tokens, in batches; returns what
        went wrong, in words for the administrator, or None. The tokens are stored either way.

        A recurring series is deleted once, through its master, never occurrence by occurrence.
        """
        if not links:
            return
        if account.state not in ("connected", "error", "stopped"):
            raise UserError(
                self.env._(
                    "%(user)s's Outlook account is not connected, so their events cannot be deleted from "
                    "Microsoft. Choose 'Leave them untouched' or 'Delete from Odoo', or ask them to connect first.",
                    user=self.user_id.display_name,
                )
            )
        remote_ids = []
        for link in links:
            remote_id = link.series_master_id or link.remote_id
            if remote_id not in remote_ids:
                remote_ids.append(remote_id)
        client = outlook_sync.GraphClient(self.env["outlook.sync.config"]._graph_config(), account._tokens())
        failures = []
        try:
            for start in range(0, len(remote_ids), BATCH_SIZE):
                chunk = remote_ids[start : start + BATCH_SIZE]
                requests = [
                    {"id": str(index), "method": "DELETE", "url": f"/me/events/{remote_id}"}
                    for index, remote_id in enumerate(chunk)
                ]
                for response in client.batch(requests):
                    status = int(response.get("status", 0))
                    # 404: already gone, which is what we want.
                    if status >= 400 and status != 404:
                        remote_id = chunk[int(response.get("id", 0))]
                        failures.append(f"{remote_id}: HTTP {status}")
        except outlook_sync.OutlookSyncError as error:
            return self.env._(
                "Deleting %(user)s's events from Outlook failed, so nothing was changed in Odoo: %(error)s",
                user=self.user_id.display_name,
                error=error,
            )
        finally:
            account._store_tokens(client.tokens)
        if failures:
            return self.env._(
                "Outlook refused to delete %(count)s of %(user)s's events, so nothing was changed in Odoo: %(details)s",
                count=len(failures),
                user=self.user_id.display_name,
                details="; ".join(failures[:10]),
            )
        return None
