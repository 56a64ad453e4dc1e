"""Shared fixtures: one real emulator per test session (reset before each test), real HTTP everywhere."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from outlook_sync import GraphClient, GraphConfig
from outlook_sync.emulator import Emulator

from support import ALICE, REDIRECT_URI, sign_in


@pytest.fixture(scope="session")
def emulator_session() -> Iterator[Emulator]:
    with Emulator.start() as emulator:
        yield emulator


@pytest.fixture
def emulator(emulator_session: Emulator) -> Emulator:
    emulator_session.reset()
    return emulator_session


@pytest.fixture
def config(emulator: Emulator) -> GraphConfig:
    return GraphConfig(
        "11111111-2222-3333-4444-555555555555",
        "emulator-client-secret",
        REDIRECT_URI,
        login_url=emulator.url,
        graph_url=emulator.url,
        timeout=10.0,
        max_total_wait=30.0,
    )


@pytest.fixture
def alice(config: GraphConfig) -> GraphClient:
    return GraphClient(config, sign_in(config, ALICE))
