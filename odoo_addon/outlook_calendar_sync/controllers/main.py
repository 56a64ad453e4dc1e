"""The Outlook sign-in: start (redirect to Microsoft with PKCE and a signed state) and callback."""

import logging
import re
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

# The pages the sign-in shows keep the callback's URL (code and state) in the address bar: no Referer carries it to
# another site (RFC 9700, 4.2.4) and no cache keeps the page.
CALLBACK_HEADERS = [("Referrer-Policy", "no-referrer"), ("Cache-Control", "no-store")]

# The callback's query parameters that must not reach the server log.
_CALLBACK_SECRETS = re.compile(r"([?&](?:code|state|session_state|id_token)=)[^&\s\"]*")


def redact_callback_query(text):
    """``text`` with the authorization code and state of a callback URL masked."""
    if CALLBACK_PATH not in text:
        return text
    return _CALLBACK_SECRETS.sub(r"\1***", text)


class CallbackQueryRedactor(logging.Filter):
    """Masks the callback's code and state in the HTTP server's request lines.

    Odoo's server (werkzeug) logs every request line with its query string at INFO, and Microsoft returns the
    authorization code in the query: without this, every connection would write its code to the server log.
    """

    def filter(self, record):
        if isinstance(record.msg, str):
            record.msg = redact_callback_query(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_callback_query(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def _install_request_log_redactor():
    server_log = logging.getLogger("werkzeug")
    # Idempotent: the module may be imported again (e.g. by a second registry in the same process).
    if not any(type(known).__name__ == CallbackQueryRedactor.__name__ for known in server_log.filters):
        server_log.addFilter(CallbackQueryRedactor())


_install_request_log_redactor()


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

    # auth="public": an auth="user" route would send a signed-out browser to the login page with the whole
    # callback URL, code included, in its redirect parameter (and into the server log once more). The state is
    # bound to the session that started the flow, which a new login replaces, so that detour could never succeed.
    @http.route(CALLBACK_PATH, type="http", auth="public", methods=["GET"])
    def callback(self, state=None, code=None, error=None, error_description=None, **kwargs):
        """Where Microsoft sends the user back, with a code or an error."""
        env = request.env
        if env.user._is_public():
            return self._result_page(
                env._("You are not signed in to Odoo"),
                env._(
                    "Your Odoo session ended before Microsoft sent you back, so Outlook was not connected. Sign in, "
                    "then click Outlook in your calendar again."
                ),
                "/web/login?redirect=/odoo/calendar",
            )
        if not env.user._is_internal():
            raise Forbidden()
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
        if error or not code:
            return self._result_page(
                env._("Outlook was not connected"), self._refusal_message(error, error_description), return_url
            )
        return self._complete(code, verifier, return_url)

    @staticmethod
    def _refusal_message(error, error_description):
        """What to tell a user whom Microsoft sent back without a code."""
        env = request.env
        if not error:
            return env._("Microsoft sent no authorization code. Start again from the Outlook button in your calendar.")
        _logger.info("Outlook sign-in for %s ended at Microsoft: %s", env.user.login, error)
        if error == "access_denied":
            return env._(
                "You did not give Odoo access to your Outlook calendar, so nothing was connected. To connect, "
                "click Outlook in your calendar again and accept."
            )
        return env._(
            "Microsoft refused the sign-in (%(code)s): %(description)s",
            code=error,
            description=error_description or env._("no details given"),
        )

    def _complete(self, code, verifier, return_url):
        """Redeem the code and connect the current user's account; the user goes back to ``return_url``."""
        env = request.env
        Account = env["outlook.sync.account"]
        # Hold the account before spending the single-use code, as a sync run does. Were a run in progress, storing
        # the tokens would wait for it, then fail on a serialization error that Odoo logs at ERROR with the query's
        # values (the new tokens) before retrying the request with a code already spent.
        existing = Account.sudo().search([("user_id", "=", env.user.id)], limit=1)
        if existing and not existing._try_lock():
            return self._result_page(
                env._("Outlook was not connected"),
                env._(
                    "Your Outlook calendar is being synchronized right now. Wait a moment, then click Outlook in "
                    "your calendar again."
                ),
                return_url,
            )
        graph_config, tokens, failure = self._redeem(code, verifier)
        if failure:
            return self._result_page(env._("Outlook was not connected"), failure, return_url)
        account = Account._for_user(env.user)
        account._connect(tokens, mailbox=self._mailbox(graph_config, tokens, account))
        _logger.info("Outlook account connected for %s", env.user.login)
        separator = "&" if "?" in return_url else "?"
        response = request.redirect(f"{return_url}{separator}{urlencode({'outlook_sync': 'connected'})}")
        response.headers.extend(CALLBACK_HEADERS)
        return response

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
            headers=CALLBACK_HEADERS,
        )
