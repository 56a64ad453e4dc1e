"""Helpers shared by the tests: the browser's part of the OAuth flow and Graph event builders."""

from __future__ import annotations

import http.client
import urllib.parse
from datetime import datetime, timedelta, timezone

from outlook_sync import GraphConfig, OAuth, Tokens

ALICE = "alice@contoso.example"
BOB = "bob@contoso.example"
REDIRECT_URI = "http://localhost:8069/microsoft_account/authentication"


def authorize(url: str) -> dict[str, str]:
    """Follows the browser's first step: GET the authorize URL and read the redirect's query, unfollowed."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", f"{parts.path}?{parts.query}")
    response = conn.getresponse()
    location = response.getheader("Location") or ""
    conn.close()
    assert response.status in (302, 303), f"authorize answered {response.status}, not a redirect"
    assert location.startswith(REDIRECT_URI), location
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def sign_in(config: GraphConfig, mailbox: str, state: str = "opaque-state") -> Tokens:
    """The whole authorization-code flow with PKCE, as the Odoo callback will run it."""
    oauth = OAuth(config)
    request = oauth.authorization_request(state, login_hint=mailbox)
    query = authorize(request.url)
    assert query["state"] == state
    return oauth.exchange_code(query["code"], request.code_verifier)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def graph_event(subject: str, start: datetime, minutes: int = 60, **extra: object) -> dict[str, object]:
    """A Graph event body in UTC."""
    fmt = "%Y-%m-%dT%H:%M:%S"
    end = start + timedelta(minutes=minutes)
    return {
        "subject": subject,
        "start": {"dateTime": start.strftime(fmt), "timeZone": "UTC"},
        "end": {"dateTime": end.strftime(fmt), "timeZone": "UTC"},
        **extra,
    }


def attendee(address: str, name: str = "") -> dict[str, object]:
    return {"emailAddress": {"address": address, "name": name or address}, "type": "required"}
