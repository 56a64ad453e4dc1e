"""The Outlook sign-in: start (redirect to Microsoft with PKCE and a signed state) and callback."""

import logging
from urllib.parse import urlencode

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request
from werkzeug.exceptions import Forbidden

import outlook_sync

from ..models.outlook_sync_auth_request import InvalidState, safe_return_url
from ..models.outlook_sync_config import CALLBACK_PATH

_logger = logging.getLogger(__name__)

# What the calendar needs, plus what identifies the mailbox (User.Read) and keeps access (offline_access).
SCOPES = ["offline_access", "openid", "email", "User.Read", "Calendars.ReadWrite"]


class OutlookSyncController(http.Controller):
    @http.route("/outlook_calendar_sync/connect", type="http", auth="user", methods=["GET"])
    def connect(self, redirect=None, **kwargs):
        """Send the current user to Microsoft's consent page."""
        env = request.env
        if not env.user._is_internal():
            raise Forbidden()
        config = env["outlook.sync.config"]
        if not config._is_configured():
            return self._result_page(
                env._("Outlook is not set up"),
                env._("An administrator must set up Outlook Calendar in Settings > Calendar before you can connect."),
                safe_return_url(redirect),
            )
        try:
            graph_config = config._graph_config()
        except UserError as failure:
            return self._result_page(env._("Outlook is not set up"), str(failure), safe_return_url(redirect))
        state, pending = env["outlook.sync.auth.request"]._make_state(request.session.sid, redirect)
        authorization = outlook_sync.OAuth(graph_config).authorization_request(
            state=state, login_hint=env.user.email or None, scopes=SCOPES
        )
        pending._set_verifier(authorization.code_verifier)
        _logger.info("Outlook sign-in started by %s", env.user.login)
        return request.redirect(authorization.url, local=False)

    @http.route(CALLBACK_PATH, type="http", auth="user", methods=["GET"])
    def callback(self, state=None, code=None, error=None, error_description=None, **kwargs):
        """Where Microsoft sends the user back, with a code or an error."""
        env = request.env
        try:
            verifier, return_url = env["outlook.sync.auth.request"]._consume_state(state, request.session.sid)
        except InvalidState as refused:
            _logger.warning("Outlook sign-in callback for %s refused: state %s", env.user.login, refused)
            return self._result_page(
                env._("This sign-in link is no longer valid"),
                env._(
                    "It has expired, was already used, or was started by another user or browser session. "
                    "Start again from the Outlook button in your calendar."
                ),
                "/odoo/calendar",
            )
        if error:
            _logger.info("Outlook sign-in for %s ended at Microsoft: %s", env.user.login, error)
            if error == "access_denied":
                message = env._(
                    "You did not give Odoo access to your Outlook calendar, so nothing was connected. To connect, "
                    "click Outlook in your calendar again and accept."
                )
            else:
                message = env._(
                    "Microsoft refused the sign-in (%(code)s): %(description)s",
                    code=error,
                    description=error_description or env._("no details given"),
                )
            return self._result_page(env._("Outlook was not connected"), message, return_url)
        if not code:
            return self._result_page(
                env._("Outlook was not connected"),
                env._("Microsoft sent no authorization code. Start again from the Outlook button in your calendar."),
                return_url,
            )
        graph_config, tokens, failure = self._redeem(code, verifier)
        if failure:
            return self._result_page(env._("Outlook was not connected"), failure, return_url)
        account = env["outlook.sync.account"]._for_user(env.user)
        account._connect(tokens, mailbox=self._mailbox(graph_config, tokens, account))
        _logger.info("Outlook account connected for %s", env.user.login)
        separator = "&" if "?" in return_url else "?"
        return request.redirect(f"{return_url}{separator}{urlencode({'outlook_sync': 'connected'})}")

    @staticmethod
    def _redeem(code, verifier):
        """Exchange the code for tokens: ``(graph_config, tokens, None)``, or ``(None, None, message)``."""
        env = request.env
        try:
            graph_config = env["outlook.sync.config"]._graph_config()
            return graph_config, outlook_sync.OAuth(graph_config).exchange_code(code, verifier), None
        except outlook_sync.InvalidClientError:
            return (
                None,
                None,
                env._(
                    "Microsoft rejected this Odoo's application credentials: the client secret is wrong or has "
                    "expired. An administrator must enter a valid client secret in Settings > Calendar > Outlook "
                    "Calendar; then connect again."
                ),
            )
        except outlook_sync.ReconnectRequired:
            return (
                None,
                None,
                env._("The sign-in expired or was already used. Start again from the Outlook button in your calendar."),
            )
        except (outlook_sync.OutlookSyncError, UserError) as failure:
            _logger.warning("Outlook sign-in for %s failed: %s", env.user.login, failure)
            return None, None, str(failure)

    @staticmethod
    def _mailbox(graph_config, tokens, account):
        """The connected mailbox's address, for display; the connection stands even if Graph cannot say."""
        try:
            client = outlook_sync.GraphClient(graph_config, tokens)
            profile = client.me()
        except outlook_sync.OutlookSyncError as failure:
            _logger.warning("Outlook profile of %s not read: %s", account.user_id.login, failure)
            return None
        return profile.get("mail") or profile.get("userPrincipalName")

    @staticmethod
    def _result_page(title, message, return_url):
        return request.render(
            "outlook_calendar_sync.auth_result",
            {"title": title, "message": message, "return_url": safe_return_url(return_url)},
        )
