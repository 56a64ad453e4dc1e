"""The OAuth ``state``: signed, bound to the user and session that started the flow, expiring and single use.

The PKCE verifier never leaves the server: it is stored here, keyed by a random nonce that the signed state
carries, and the row is deleted when the callback consumes it.
"""

import base64
import binascii
import hmac
import json
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from odoo import api, fields, models
from odoo.tools.misc import hmac as odoo_hmac

STATE_SCOPE = "outlook_calendar_sync.oauth_state"
SESSION_SCOPE = "outlook_calendar_sync.oauth_session"
STATE_TTL = timedelta(minutes=10)
DEFAULT_RETURN_URL = "/odoo/calendar"


class InvalidState(Exception):
    """The callback's state is forged, expired, replayed, or belongs to another user or session."""


def safe_return_url(url):
    """``url`` if it is a path on this server, else the calendar: the callback never sends anyone elsewhere."""
    if not isinstance(url, str) or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return DEFAULT_RETURN_URL
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or any(ord(char) < 32 for char in url):
        return DEFAULT_RETURN_URL
    return url


def _b64encode(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class OutlookSyncAuthRequest(models.Model):
    _name = "outlook.sync.auth.request"
    _description = "Outlook Calendar sign-in in progress"

    nonce = fields.Char(required=True, index=True, readonly=True)
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", readonly=True)
    session_hash = fields.Char(required=True, readonly=True)
    code_verifier = fields.Char(readonly=True, help="PKCE verifier; set once the authorization request is built.")
    return_url = fields.Char(required=True, readonly=True)
    expires_at = fields.Datetime(required=True, readonly=True)

    _sql_constraints = [("nonce_unique", "unique(nonce)", "Sign-in nonces are unique.")]

    @api.model
    def _session_hash(self, session_id):
        # The session id itself is a credential: only its keyed hash is stored.
        return odoo_hmac(self.env(su=True), SESSION_SCOPE, session_id or "")

    @api.model
    def _sign(self, payload):
        return odoo_hmac(self.env(su=True), STATE_SCOPE, payload)

    @api.model
    def _make_state(self, session_id, return_url):
        """Start a sign-in for the current user; returns ``(state, record)``.

        The caller sets the PKCE verifier with ``_set_verifier`` once the authorization request is built.
        """
        user = self.env.user
        expires_at = fields.Datetime.now() + STATE_TTL
        nonce = secrets.token_urlsafe(32)
        record = self.sudo().create(
            {
                "nonce": nonce,
                "user_id": user.id,
                "session_hash": self._session_hash(session_id),
                "return_url": safe_return_url(return_url),
                "expires_at": expires_at,
            }
        )
        payload = _b64encode(
            json.dumps(
                {"n": nonce, "u": user.id, "d": self.env.cr.dbname},
                separators=(",", ":"),
            ).encode()
        )
        return f"{payload}.{self._sign(payload)}", record

    def _set_verifier(self, code_verifier):
        self.ensure_one()
        self.sudo().write({"code_verifier": code_verifier})

    @api.model
    def _consume_state(self, state, session_id):
        """Check ``state`` for the current user and session and consume it (single use).

        Returns the matching record's ``(code_verifier, return_url)``; raises InvalidState otherwise.
        """
        payload, _, signature = (state or "").partition(".")
        # Compare bytes: compare_digest refuses non-ASCII text, and a state is whatever the browser sent.
        expected = self._sign(payload).encode()
        if not payload or not hmac.compare_digest(signature.encode(), expected):
            raise InvalidState("signature")
        try:
            claims = json.loads(_b64decode(payload))
        except (ValueError, binascii.Error):
            raise InvalidState("payload") from None
        if not isinstance(claims, dict):
            raise InvalidState("payload")
        if claims.get("d") != self.env.cr.dbname or claims.get("u") != self.env.uid:
            raise InvalidState("user")
        record = self.sudo().search([("nonce", "=", claims.get("n") or "")], limit=1)
        if not record:
            raise InvalidState("replayed")
        # Consume before any further check, so a refused attempt cannot be retried either.
        verifier, return_url, expires_at = record.code_verifier, record.return_url, record.expires_at
        session_ok = hmac.compare_digest(record.session_hash.encode(), self._session_hash(session_id).encode())
        user_ok = record.user_id.id == self.env.uid
        record.unlink()
        if not user_ok or not session_ok:
            raise InvalidState("session")
        if expires_at < fields.Datetime.now():
            raise InvalidState("expired")
        if not verifier:
            raise InvalidState("incomplete")
        return verifier, return_url

    @api.autovacuum
    def _gc_expired(self):
        self.sudo().search([("expires_at", "<", fields.Datetime.now() - timedelta(days=1))]).unlink()
