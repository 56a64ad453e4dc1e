"""Load suite, short form (issue 6, point 4): a few users synced by the cron under Microsoft's limits, one of them
with a revoked consent. The long form (50 users) is ``make adversarial``."""

import logging
import os

from odoo.tests import tagged

from .common import EmulatorCase
from .load_scenario import LoadScenario, summary_line
from .test_adversarial_faults import InTransactionHarness

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestAdversarialLoad(EmulatorCase):
    def test_every_user_converges_and_a_revoked_one_does_not_hold_up_the_others(self):
        users = int(os.environ.get("ADVERSARIAL_SHORT_USERS") or 8)
        result = LoadScenario(InTransactionHarness(self.env, self.emulator), users=users, service_ms=20).run()
        line = summary_line(result)
        _logger.info(line)
        detail = "\n".join([line, *result["unconverged"]])
        self.assertEqual(result["unconverged"], [], detail)
        self.assertIsNotNone(result["seconds_to_converge"], detail)
        self.assertEqual(result["retry_after_violations"], 0, detail)
        self.assertEqual(result["revoked_user_state"], "reconnect", detail)
        self.assertIn("reconnect the Outlook account", result["revoked_user_message"])
        # The revoked user's run ends at the refused refresh: shorter than a run that exchanges events, and a
        # handful of requests, so it cannot hold the cron up.
        self.assertLessEqual(result["revoked_run_seconds"], result["median_run_seconds"], detail)
        self.assertLessEqual(result["revoked_run_requests"], 2, detail)
