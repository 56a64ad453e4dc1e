"""The exceptions ``outlook_sync`` raises.

Every message says what happened and what to do next, in words an Odoo administrator can act on, and never
contains a token, a client secret or an authorization code.

::

    OutlookSyncError
    ├── AuthError                      signing in at Microsoft failed
    │   ├── ReconnectRequired          the user must connect their Outlook account again
    │   │   ├── InvalidGrantError      consent expired or was revoked (invalid_grant)
    │   │   └── InteractionRequiredError  Microsoft wants the user to sign in interactively (MFA, policy)
    │   └── ConfigurationError         an administrator must fix the Outlook settings
    │       └── InvalidClientError     wrong or expired client secret (invalid_client)
    ├── ThrottledError                 Microsoft kept throttling; retry later (``retry_after`` seconds)
    ├── GraphApiError                  Graph answered with an error (``status``, ``code``, ``request_id``)
    ├── TransportError                 the network failed or timed out (``timeout``)
    ├── PayloadError                   Graph sent something malformed (names the item and the field)
    └── SyncStoppedError               a sync run stopped as a whole; nothing was written (``kind``)
        └── SafetyStopError            a side that had events is suddenly empty: nothing is deleted
"""

from __future__ import annotations


class OutlookSyncError(Exception):
    """Base class of every error raised by ``outlook_sync``."""


class AuthError(OutlookSyncError):
    """Signing in at Microsoft's identity platform failed."""


class ReconnectRequired(AuthError):
    """The user's Outlook connection no longer works: they must connect their account again."""


class InvalidGrantError(ReconnectRequired):
    """Microsoft answered ``invalid_grant``: the consent expired or was revoked."""


class InteractionRequiredError(ReconnectRequired):
    """Microsoft answered ``interaction_required``: the user must sign in again in a browser."""


class ConfigurationError(AuthError):
    """The application's settings (client id, secret, endpoints) are wrong: an administrator must fix them."""


class InvalidClientError(ConfigurationError):
    """Microsoft answered ``invalid_client``: the client secret is wrong or has expired."""


class ThrottledError(OutlookSyncError):
    """Microsoft throttled the mailbox longer than the client is allowed to wait.

    ``retry_after`` is the last delay Microsoft asked for, in seconds, or ``None``.
    """

    retry_after: float | None = None


class GraphApiError(OutlookSyncError):
    """Microsoft Graph answered with an error.

    ``status`` is the HTTP status, ``code`` Graph's error code (``ErrorItemNotFound``...), ``request_id`` the id
    to quote to Microsoft support.
    """

    status: int = 0
    code: str = ""
    request_id: str | None = None


class TransportError(OutlookSyncError):
    """The request did not complete: network failure or timeout (``timeout`` tells which)."""

    timeout: bool = False


class PayloadError(OutlookSyncError):
    """Microsoft Graph sent a payload that is malformed or unexpected; the message names the item and field."""


class SyncStoppedError(OutlookSyncError):
    """A sync run stopped before writing anything; keep the stored state and look at the message.

    ``kind`` is ``"safety_stop"``, ``"plan"`` or ``"apply"``; ``tokens`` holds the current (possibly rotated)
    tokens, to store even though the run failed.
    """

    kind: str = ""
    tokens: object = None


class SafetyStopError(SyncStoppedError):
    """One side had linked events and is now empty: the run refused to delete everything on the other side.

    Check the Outlook account (a different mailbox? a wiped calendar?) before resetting the account.
    """


__all__ = [
    "AuthError",
    "ConfigurationError",
    "GraphApiError",
    "InteractionRequiredError",
    "InvalidClientError",
    "InvalidGrantError",
    "OutlookSyncError",
    "PayloadError",
    "ReconnectRequired",
    "SafetyStopError",
    "SyncStoppedError",
    "ThrottledError",
    "TransportError",
]
