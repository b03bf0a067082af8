"""The `bridge_server` fixture: a fake Bridge API v3 on loopback. Import it from a test module."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parents[1]
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))

from fakes.bridge_server import BridgeFake, Fault  # noqa: E402

__all__ = ["BridgeFake", "Fault", "bridge_server"]


@pytest.fixture
def bridge_server() -> Iterator[BridgeFake]:
    fake = BridgeFake().start()
    try:
        yield fake
    finally:
        fake.stop()
