# Hand-written stub of the Rust extension; `make stubtest` checks it against the compiled module.
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, final

__version__: str
__all__ = [
    "AuthorizationRequest",
    "DeltaResult",
    "EmulatorServer",
    "GraphClient",
    "GraphConfig",
    "OAuth",
    "Tokens",
    "__version__",
    "local_hash",
    "normalize_body",
    "redact",
    "sync_mailbox",
]

@final
class GraphConfig:
    """Where to sign in, which app to sign in as, and how patient to be. Defaults are Microsoft's."""

    @property
    def client_id(self) -> str: ...
    @property
    def redirect_uri(self) -> str: ...
    @property
    def login_url(self) -> str: ...
    @property
    def tenant(self) -> str: ...
    @property
    def graph_url(self) -> str: ...
    @property
    def timeout(self) -> float: ...
    @property
    def max_in_flight(self) -> int: ...
    @property
    def page_size(self) -> int: ...
    @property
    def max_total_wait(self) -> float: ...
    @property
    def has_client_secret(self) -> bool: ...
    def __new__(
        cls,
        client_id: str,
        client_secret: str | None = None,
        redirect_uri: str | None = None,
        *,
        login_url: str | None = None,
        tenant: str | None = None,
        graph_url: str | None = None,
        timeout: float = 60.0,
        max_in_flight: int = 4,
        page_size: int = 200,
        max_total_wait: float = 300.0,
    ) -> GraphConfig: ...

@final
class Tokens:
    """An access token, its refresh token and expiry. The repr masks both tokens."""

    def __new__(
        cls,
        access_token: str,
        refresh_token: str | None,
        expires_at: datetime,
        scope: str | None = None,
    ) -> Tokens: ...
    @property
    def access_token(self) -> str: ...
    @property
    def refresh_token(self) -> str | None: ...
    @property
    def expires_at(self) -> datetime: ...
    @property
    def scope(self) -> str | None: ...

@final
class AuthorizationRequest:
    @property
    def url(self) -> str: ...
    @property
    def code_verifier(self) -> str: ...

@final
class OAuth:
    """The authorization-code flow with PKCE (S256)."""

    def __new__(cls, config: GraphConfig) -> OAuth: ...
    def authorization_request(
        self, state: str, login_hint: str | None = None, scopes: list[str] | None = None
    ) -> AuthorizationRequest: ...
    def exchange_code(self, code: str, code_verifier: str) -> Tokens: ...
    def refresh(self, refresh_token: str) -> Tokens: ...

@final
class DeltaResult:
    @property
    def events(self) -> list[dict[str, Any]]: ...
    @property
    def removed(self) -> list[str]: ...
    @property
    def delta_link(self) -> str | None: ...
    @property
    def resync_required(self) -> bool: ...
    @property
    def pages(self) -> int: ...

@final
class GraphClient:
    """One mailbox's Graph calls; blocking, GIL released while waiting."""

    def __new__(cls, config: GraphConfig, tokens: Tokens) -> GraphClient: ...
    @property
    def tokens(self) -> Tokens: ...
    def me(self) -> dict[str, Any]: ...
    def delta(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        delta_link: str | None = None,
    ) -> DeltaResult: ...
    def get_event(self, id: str) -> dict[str, Any]: ...
    def instances(self, master_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]: ...
    def find_by_ical_uid(self, ical_uid: str) -> list[dict[str, Any]]: ...
    def create_event(self, event: dict[str, Any], transaction_id: str) -> dict[str, Any]: ...
    def update_event(self, id: str, patch: dict[str, Any]) -> dict[str, Any]: ...
    def delete_event(self, id: str) -> None: ...
    def cancel_event(self, id: str, comment: str | None = None) -> None: ...
    def respond(
        self,
        id: str,
        response: Literal["accept", "decline", "tentativelyAccept"],
        comment: str | None = None,
        send_response: bool = True,
    ) -> None: ...
    def batch(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]: ...

@final
class EmulatorServer:
    """Our Graph emulator, serving on its own thread in this process."""

    def __new__(cls, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer: ...
    @property
    def url(self) -> str: ...
    @property
    def running(self) -> bool: ...
    def stop(self) -> None: ...

def redact(text: str) -> str: ...
def normalize_body(html: str) -> str:
    """An event body (HTML) as the engine compares it: ``<body>`` content, whitespace collapsed, ends trimmed."""

def local_hash(values: dict[str, Any]) -> str:
    """The content hash the engine keeps for an Odoo record with these values (store it after a write)."""

def sync_mailbox(
    config: GraphConfig,
    tokens: Tokens,
    state: dict[str, Any] | None,
    local: dict[str, Any],
    *,
    mailbox: str,
    transaction_salt: str,
    policy: Literal["latest", "local", "remote"] = "latest",
    first_sync: Literal["all", "future", "none"] = "all",
    dry_run: bool = False,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    sent: list[dict[str, Any]] | None = None,
    on_sent: Callable[[list[dict[str, Any]]], None] | None = None,
) -> dict[str, Any]:
    """One sync run of one mailbox: pull, plan, push to Outlook; returns Odoo's writes, state, report, tokens.

    ``on_sent`` is called with each group of journal entries (updates about to be sent, then the writes Outlook
    confirmed or refused) as soon as they are known: commit them outside the run's transaction; ``sent`` hands the
    next call those of runs whose state was never committed, oldest first."""
