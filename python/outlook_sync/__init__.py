"""Two-way sync between Odoo Calendar and Microsoft Outlook Calendar.

The heavy lifting (the Microsoft Graph client and the reconciliation engine) is Rust, in ``outlook_sync._native``;
this package re-exports it with the exceptions of :mod:`outlook_sync.errors`. Every network call blocks the
calling thread and releases the GIL while it waits; the I/O runtime is built lazily and again after ``fork()``.

Logging goes through :mod:`logging` under the ``outlook_sync`` logger, with tokens, secrets and authorization
codes masked.
"""

from __future__ import annotations

from outlook_sync._native import (
    AuthorizationRequest,
    DeltaResult,
    GraphClient,
    GraphConfig,
    OAuth,
    Tokens,
    __version__,
    local_hash,
    normalize_body,
    redact,
    sync_mailbox,
)
from outlook_sync.errors import (
    AuthError,
    ConfigurationError,
    GraphApiError,
    InteractionRequiredError,
    InvalidClientError,
    InvalidGrantError,
    OutlookSyncError,
    PayloadError,
    ReconnectRequired,
    SafetyStopError,
    SyncStoppedError,
    ThrottledError,
    TransportError,
)

__all__ = [
    "AuthError",
    "AuthorizationRequest",
    "ConfigurationError",
    "DeltaResult",
    "GraphApiError",
    "GraphClient",
    "GraphConfig",
    "InteractionRequiredError",
    "InvalidClientError",
    "InvalidGrantError",
    "OAuth",
    "OutlookSyncError",
    "PayloadError",
    "ReconnectRequired",
    "SafetyStopError",
    "SyncStoppedError",
    "ThrottledError",
    "Tokens",
    "TransportError",
    "__version__",
    "local_hash",
    "normalize_body",
    "redact",
    "sync_mailbox",
]
