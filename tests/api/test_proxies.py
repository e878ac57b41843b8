"""``X-Forwarded-For`` is believed only from the proxies the settings name: otherwise a guesser
could name a new address on every try and never meet a rate limit."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support import serving


def guesses(base: str, n: int) -> list[int]:
    """``n`` wrong passwords for one name, each claiming to come from another address."""
    return [
        httpx.post(
            f"{base}/api/v1/auth/token",
            json={"username": "staff-x", "password": "wrong guess"},
            headers={"X-Forwarded-For": f"203.0.113.{n_}"},
            timeout=10,
        ).status_code
        for n_ in range(n)
    ]


def test_a_forwarded_address_from_an_unnamed_peer_is_ignored(db_url: str, tmp_path: Path) -> None:
    with serving(db_url, tmp_path) as base:
        answered = guesses(base, 7)
    assert answered == [401] * 5 + [429] * 2  # counted as the one address they came from


def test_a_named_proxy_is_believed(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MALL_TRUSTED_PROXIES", "127.0.0.1")
    with serving(db_url, tmp_path) as base:
        answered = guesses(base, 7)
    assert answered == [401] * 7  # seven addresses, one try each
