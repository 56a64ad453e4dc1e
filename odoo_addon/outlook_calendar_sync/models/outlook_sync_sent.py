"""The sent journal: Outlook writes a run had confirmed, kept even when the run's transaction never commits.

A worker killed after Outlook accepted a write and before the run stored its state would leave the next run
planning from the older state: the edit it sent looks unsent, and its echo in Outlook looks like a person's edit
(a person's deletion in Outlook would then be undone, and the echo could beat a newer Odoo edit). So the engine
reports the updates it is about to send, then each group of writes as Outlook answers it (``on_sent`` of
``outlook_sync.sync_mailbox``; each entry says ``pending``, ``confirmed`` or ``refused``), they are committed at
once on a cursor of their own, and the next run gets them back (``sent``) until a run's state is committed. An
update still pending there was sent without an answer: if Outlook's copy has been deleted since, the engine lets the
deletion win and the run log says so. Runs are numbered per account (``sent_seq``, the last committed one): rows of
a run numbered at most that are superseded by the stored state.
"""

import json

from odoo import api, fields, models


class OutlookSyncSent(models.Model):
    _name = "outlook.sync.sent"
    _description = "Outlook Calendar sync: writes Outlook confirmed to a run not committed yet"
    _order = "id"
    _log_access = False

    # An integer, not a Many2one: the run holds its account's row lock, and these rows are written from another
    # transaction, which must not wait on it (nor on the foreign-key check against it).
    account_ref = fields.Integer(string="Account id", required=True, index=True)
    run_seq = fields.Integer(string="Run", required=True, help="The account's sent_seq + 1 when the run started.")
    writes = fields.Text(required=True, help="The writes, as the engine reports them (JSON list).")

    @api.model
    def _pending(self, account):
        """The writes of ``account``'s runs since its last committed one, oldest first. Rows a committed state
        supersedes are deleted on the way. Read on a cursor of its own: a row committed after this transaction
        began is still seen."""
        with self.env.registry.cursor() as cr:
            cr.execute(
                "DELETE FROM outlook_sync_sent WHERE account_ref = %s AND run_seq <= %s", (account.id, account.sent_seq)
            )
            cr.execute("SELECT writes FROM outlook_sync_sent WHERE account_ref = %s ORDER BY id", (account.id,))
            rows = cr.fetchall()
        return [write for (text,) in rows for write in json.loads(text)]

    @api.model
    def _recorder(self, account, run_seq):
        """The ``on_sent`` callback of a run: commits each group of writes on a cursor of its own. The engine calls
        it from inside ``sync_mailbox`` (same thread, GIL taken back); it uses the registry only, not this
        environment, whose transaction is the run's."""
        registry = self.env.registry
        account_id = account.id

        def record(writes):
            with registry.cursor() as cr:
                cr.execute(
                    "INSERT INTO outlook_sync_sent (account_ref, run_seq, writes) VALUES (%s, %s, %s)",
                    (account_id, run_seq, json.dumps(writes, separators=(",", ":"))),
                )

        return record


class OutlookSyncAccount(models.Model):
    _inherit = "outlook.sync.account"

    sent_seq = fields.Integer(
        string="Last committed run",
        readonly=True,
        copy=False,
        help="Numbers the runs of this account for the sent journal: the last run whose state was stored.",
    )

    def _forget_sync_state(self):
        # The journal's writes belong to the state being dropped: numbering past them makes them superseded.
        for account in self.sudo():
            account.sent_seq += 1
        return super()._forget_sync_state()

    def unlink(self):
        self.env["outlook.sync.sent"].sudo().search([("account_ref", "in", self.ids)]).unlink()
        return super().unlink()
