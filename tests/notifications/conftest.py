from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.agents_fixtures import shop  # noqa: F401 - fixture for this package
from tests.notifications.providers import FakeHTTPProvider, FakeSMTP
from tests.processes import shared_db, workers  # noqa: F401 - fixtures for this package


@pytest.fixture
def telegram() -> Iterator[FakeHTTPProvider]:
    provider = FakeHTTPProvider("telegram").start()
    yield provider
    provider.stop()


@pytest.fixture
def slack() -> Iterator[FakeHTTPProvider]:
    provider = FakeHTTPProvider("slack").start()
    yield provider
    provider.stop()


@pytest.fixture
def webhook() -> Iterator[FakeHTTPProvider]:
    provider = FakeHTTPProvider("webhook").start()
    yield provider
    provider.stop()


@pytest.fixture
def smtp(tmp_path) -> Iterator[FakeSMTP]:
    server = FakeSMTP(tmp_path).start()
    yield server
    server.stop()
