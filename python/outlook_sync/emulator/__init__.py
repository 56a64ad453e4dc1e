"""Our Microsoft Graph emulator, and a small client for its test controls.

The emulator speaks Graph v1.0's calendar API and the identity platform's OAuth endpoints on one origin, and
records the mails Outlook would send. See ``docs/emulator.md`` for the whole contract.

Start one in this process::

    with Emulator.start() as emu:
        tokens = emu.token("alice@example.com")
        emu.seed("alice@example.com", [{"subject": "Lunch", ...}])
        print(emu.outbox())

or talk to one started elsewhere (``python -m outlook_sync.emulator --port 0``) with ``EmulatorControl(url)``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from types import TracebackType
from typing import Any

from outlook_sync._native import EmulatorServer

__all__ = ["Emulator", "EmulatorControl", "EmulatorControlError"]

JSON = dict[str, Any]


class EmulatorControlError(RuntimeError):
    """A test-control call was refused by the emulator."""


class EmulatorControl:
    """Client for the ``/_emulator/`` test controls of a running emulator at ``url``."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    # -- plumbing -------------------------------------------------------------------------------------------
    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the emulator's own http URL
            f"{self.url}/_emulator/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            raise EmulatorControlError(f"{method} /_emulator/{path}: HTTP {error.code}: {detail}") from None
        return json.loads(payload) if payload else None

    @staticmethod
    def _quote(address: str) -> str:
        return urllib.parse.quote(address, safe="")

    # -- mailboxes and tokens -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every mailbox, token, fault, counter and mail."""
        self._call("POST", "reset", {})

    def token(self, mailbox: str) -> JSON:
        """Tokens for ``mailbox`` without the browser flow: ``access_token``, ``refresh_token``, ``expires_in``."""
        result: JSON = self._call("POST", f"mailboxes/{self._quote(mailbox)}/token", {})
        return result

    def seed(self, mailbox: str, events: list[JSON]) -> list[str]:
        """Create events as ``mailbox``'s owner, with no mail, throttling or service time; returns their ids."""
        result: JSON = self._call("POST", f"mailboxes/{self._quote(mailbox)}/seed", {"events": events})
        return list(result["ids"])

    def events(self, mailbox: str) -> list[JSON]:
        """The stored masters and single events of ``mailbox`` as Graph JSON (UTC)."""
        result = self._call("GET", f"mailboxes/{self._quote(mailbox)}/events")
        return list(result["value"] if isinstance(result, dict) else result)

    # -- observations ---------------------------------------------------------------------------------------
    def outbox(self) -> list[JSON]:
        """The mails Outlook would have sent, one entry per recipient."""
        return list(self._call("GET", "outbox")["mails"])

    def clear_outbox(self) -> None:
        self._call("DELETE", "outbox")

    def requests(self) -> JSON:
        """Request counters: ``total``, ``by_route``, ``by_mailbox``, ``throttled``, ``retry_after_violations``."""
        result: JSON = self._call("GET", "requests")
        return result

    def clear_requests(self) -> None:
        self._call("DELETE", "requests")

    # -- knobs ----------------------------------------------------------------------------------------------
    def configure(self, **settings: Any) -> JSON:
        """Change ``service_time_ms``, ``limits``, ``max_concurrent``, ``rate_limit``, ``rate_window_s``..."""
        result: JSON = self._call("PUT", "config", settings)
        return result

    def config(self) -> JSON:
        result: JSON = self._call("GET", "config")
        return result

    def fault(self, kind: str, count: int = 1, **filters: Any) -> None:
        """Queue a fault (``throttle``, ``error``, ``lose_response``, ``reset``) for the next matching requests."""
        self._call("POST", "faults", {"kind": kind, "count": count, **filters})

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def expire_tokens(self, mailbox: str | None = None) -> None:
        self._call("POST", "tokens/expire", {"mailbox": mailbox} if mailbox else {})

    def oauth(self, **knobs: Any) -> None:
        """Identity knobs: ``client_secret``, ``secret_expired``, ``deny_consent``, ``fail_next_token``..."""
        self._call("PUT", "oauth", knobs)

    def expire_delta(self, mailbox: str | None = None) -> None:
        """Make every delta token (of ``mailbox``) answer 410 SyncStateNotFound."""
        self._call("POST", "delta/expire", {"mailbox": mailbox} if mailbox else {})


class Emulator(EmulatorControl):
    """An emulator running in this process (on its own thread), with its controls."""

    def __init__(self, server: EmulatorServer) -> None:
        super().__init__(server.url)
        self._server = server

    @classmethod
    def start(cls, host: str = "127.0.0.1", port: int = 0) -> Emulator:
        return cls(EmulatorServer(host, port))

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
