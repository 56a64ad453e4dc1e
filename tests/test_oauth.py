"""The authorization-code flow with PKCE, refresh rotation and the identity platform's errors."""

from __future__ import annotations

import pytest

import outlook_sync
from outlook_sync import GraphClient, GraphConfig, OAuth
from outlook_sync.emulator import Emulator

from support import ALICE, REDIRECT_URI, authorize, sign_in


def test_authorization_url_asks_for_pkce_s256_state_and_offline_access(config: GraphConfig) -> None:
    request = OAuth(config).authorization_request("s-123", login_hint=ALICE)
    assert request.url.startswith(f"{config.login_url}/common/oauth2/v2.0/authorize?")
    query = dict(p.split("=", 1) for p in request.url.split("?", 1)[1].split("&"))
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url(sha256) without padding
    assert query["state"] == "s-123"
    assert query["response_type"] == "code"
    assert "offline_access" in query["scope"] and "Calendars.ReadWrite" in query["scope"]
    assert request.code_verifier not in request.url
    assert "***" in repr(request) and request.code_verifier not in repr(request)


def test_code_flow_signs_in_the_mailbox_named_by_login_hint(config: GraphConfig) -> None:
    tokens = sign_in(config, ALICE)
    assert tokens.refresh_token
    me = GraphClient(config, tokens).me()
    assert me["mail"].lower() == ALICE
    assert tokens.access_token not in repr(tokens)


def test_a_wrong_pkce_verifier_is_refused(config: GraphConfig) -> None:
    oauth = OAuth(config)
    request = oauth.authorization_request("s", login_hint=ALICE)
    code = authorize(request.url)["code"]
    with pytest.raises(outlook_sync.InvalidGrantError) as caught:
        oauth.exchange_code(code, "x" * 64)
    assert code not in str(caught.value)


def test_an_authorization_code_is_single_use(config: GraphConfig) -> None:
    oauth = OAuth(config)
    request = oauth.authorization_request("s", login_hint=ALICE)
    code = authorize(request.url)["code"]
    oauth.exchange_code(code, request.code_verifier)
    with pytest.raises(outlook_sync.InvalidGrantError):
        oauth.exchange_code(code, request.code_verifier)


def test_refresh_returns_a_rotated_refresh_token(config: GraphConfig) -> None:
    first = sign_in(config, ALICE)
    assert first.refresh_token
    second = OAuth(config).refresh(first.refresh_token)
    assert second.refresh_token and second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert GraphClient(config, second).me()["mail"].lower() == ALICE


def test_revoked_consent_is_invalid_grant_and_says_to_reconnect(config: GraphConfig, emulator: Emulator) -> None:
    tokens = sign_in(config, ALICE)
    assert tokens.refresh_token
    emulator.oauth(revoke_mailbox=ALICE)
    with pytest.raises(outlook_sync.ReconnectRequired) as caught:
        OAuth(config).refresh(tokens.refresh_token)
    assert isinstance(caught.value, outlook_sync.InvalidGrantError)
    assert "reconnect" in str(caught.value).lower()
    assert tokens.refresh_token not in str(caught.value)


def test_wrong_client_secret_is_invalid_client_for_the_administrator(emulator: Emulator) -> None:
    emulator.oauth(client_secret="the-right-one")
    config = GraphConfig("app", "a-wrong-secret", REDIRECT_URI, login_url=emulator.url, graph_url=emulator.url)
    oauth = OAuth(config)
    request = oauth.authorization_request("s", login_hint=ALICE)
    code = authorize(request.url)["code"]
    with pytest.raises(outlook_sync.InvalidClientError) as caught:
        oauth.exchange_code(code, request.code_verifier)
    assert isinstance(caught.value, outlook_sync.ConfigurationError)
    message = str(caught.value)
    assert "administrator" in message.lower() or "settings" in message.lower()
    assert "a-wrong-secret" not in message and code not in message


def test_interaction_required_is_its_own_error(config: GraphConfig, emulator: Emulator) -> None:
    tokens = sign_in(config, ALICE)
    assert tokens.refresh_token
    emulator.oauth(fail_next_token="interaction_required")
    with pytest.raises(outlook_sync.InteractionRequiredError):
        OAuth(config).refresh(tokens.refresh_token)


def test_an_expired_access_token_is_refreshed_once_and_the_new_tokens_are_exposed(
    config: GraphConfig, emulator: Emulator
) -> None:
    client = GraphClient(config, sign_in(config, ALICE))
    before = client.tokens
    emulator.expire_tokens(ALICE)
    assert client.me()["mail"].lower() == ALICE
    after = client.tokens
    assert after.access_token != before.access_token
    assert after.refresh_token != before.refresh_token
