"""The `bridge_server` fixture: a fake Bridge API v3 on loopback. Import it from a test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.bridge_server import BridgeFake, Fault

__all__ = ["BridgeFake", "Fault", "bridge_server"]


@pytest.fixture
def bridge_server() -> Iterator[BridgeFake]:
    fake = BridgeFake().start()
    try:
        yield fake
    finally:
        fake.stop()
