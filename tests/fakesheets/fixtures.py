"""pytest fixture for the fake; import it into a conftest or a test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import FakeSheets


@pytest.fixture
def fake_sheets() -> Iterator[FakeSheets]:
    """A fake Sheets API on 127.0.0.1, stopped (threads joined) at teardown."""
    fake = FakeSheets()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
