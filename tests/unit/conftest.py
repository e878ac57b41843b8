"""Fixtures of the service tests."""

from __future__ import annotations

import pytest

from mall.counter import checkout
from tests.conftest import ENGINE


@pytest.fixture(
    params=[True, False] if ENGINE == "postgres" else [False],
    ids=lambda one: "in-one-call" if one else "python-path",
)
def one_call(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """A checkout test runs through PostgreSQL's ``mall_checkout`` and through the Python path,
    which must answer alike; SQLite has only the Python path."""
    monkeypatch.setattr(checkout, "IN_ONE_CALL", request.param)
    return bool(request.param)
