"""Web tests talk to the real app (create_app) on a fresh database, through Litestar's TestClient[Litestar]."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from web.app import create_app


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(db_url)) as c:
        yield c
