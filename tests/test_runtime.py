"""The blocking API releases the GIL, survives fork(), and keeps secrets out of logs."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

import pytest

import outlook_sync
from outlook_sync import GraphClient, GraphConfig
from outlook_sync.emulator import Emulator

from support import ALICE, sign_in


def test_a_blocking_call_lets_other_python_threads_run(alice: GraphClient, emulator: Emulator) -> None:
    emulator.configure(service_time_ms=400)
    ticks = 0
    done = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.005)

    thread = threading.Thread(target=count)
    thread.start()
    try:
        alice.me()
    finally:
        done.set()
        thread.join()
    assert ticks > 20, f"the other thread ran only {ticks} times during a 400 ms call"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_the_client_works_in_a_forked_child(alice: GraphClient) -> None:
    assert alice.me()["mail"].lower() == ALICE  # runtime and pool now exist in the parent
    pid = os.fork()
    if pid == 0:  # child: a runtime inherited from the parent would hang here
        signal.alarm(20)
        code = 0
        try:
            if alice.me()["mail"].lower() != ALICE:
                code = 3
        except BaseException:
            code = 4
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status), "the child was killed (hung on a runtime inherited across fork?)"
    assert os.WEXITSTATUS(status) == 0
    assert alice.me()["mail"].lower() == ALICE  # the parent still works


def test_logs_and_errors_never_show_secrets(
    config: GraphConfig, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="outlook_sync")
    tokens = sign_in(config, ALICE)
    client = GraphClient(config, tokens)
    emulator.expire_tokens(ALICE)
    client.me()
    emulator.fault("throttle", retry_after="0.1")
    client.me()
    emulator.oauth(revoke_mailbox=ALICE)
    emulator.expire_tokens(ALICE)
    with pytest.raises(outlook_sync.ReconnectRequired) as caught:
        client.me()
    secrets = [
        tokens.access_token,
        tokens.refresh_token,
        client.tokens.access_token,
        client.tokens.refresh_token,
        "emulator-client-secret",
    ]
    text = "\n".join(r.getMessage() for r in caplog.records) + str(caught.value) + repr(client.tokens)
    assert caplog.records, "the library should log its requests at DEBUG"
    for secret in secrets:
        assert secret and secret not in text


def test_redact_masks_what_may_slip_into_a_message() -> None:
    text = outlook_sync.redact("Authorization: Bearer abc.def.ghi; code=0.AXEA-secret&state=ok")
    assert "abc.def.ghi" not in text and "0.AXEA-secret" not in text and "state=ok" in text


def test_settings_are_validated_with_messages_an_administrator_can_act_on() -> None:
    with pytest.raises(ValueError, match="Client ID"):
        GraphConfig("  ")
    with pytest.raises(ValueError, match="graph_url"):
        GraphConfig("app", graph_url="not a url")
    with pytest.raises(ValueError, match="4 concurrent"):
        GraphConfig("app", max_in_flight=5)
    config = GraphConfig("app", "secret", "https://odoo.example/microsoft_account/authentication")
    assert config.login_url == "https://login.microsoftonline.com"
    assert config.graph_url == "https://graph.microsoft.com"
    assert config.tenant == "common"
    assert config.has_client_secret and "secret'" not in repr(config)
