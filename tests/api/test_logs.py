"""The served app's log: JSON lines when asked, each carrying the request's id, which the
response echoes, so a volunteer's "it failed at 10:42" can be found in the log."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.support import serving


def test_json_log_lines_carry_the_request_id_the_response_echoes(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MALL_LOG_FORMAT", "json")
    with serving(db_url, tmp_path) as base:
        refused = httpx.get(f"{base}/api/v1/orders/7", headers={"X-Request-ID": "desk-3.a1"})
        unsafe = httpx.get(f"{base}/healthz", headers={"X-Request-ID": "<script>alert(1)"})
        plain = httpx.get(f"{base}/healthz")
    assert refused.status_code == 401
    assert refused.headers["x-request-id"] == "desk-3.a1"
    assert unsafe.headers["x-request-id"] != "<script>alert(1)"  # never echoed: a new id
    assert len(plain.headers["x-request-id"]) == 16
    assert plain.headers["x-request-id"] != unsafe.headers["x-request-id"]  # each its own
    records = [
        json.loads(line)
        for line in (tmp_path / "server.log").read_text().splitlines()
        if line.startswith("{")
    ]
    assert any(r.get("logger", "").startswith("uvicorn") for r in records)  # one format for all
    [line] = [r for r in records if r.get("request_id") == "desk-3.a1"]
    assert line["level"] == "info" and "401 unauthenticated" in line["event"]
    assert line["timestamp"].endswith("Z")


def test_an_unknown_log_format_stops_serve_with_its_name(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import run_mall

    monkeypatch.setenv("MALL_LOG_FORMAT", "xml")
    stopped = run_mall("serve", url=db_url, check=False)
    assert stopped.returncode == 2
    assert "MALL_LOG_FORMAT must be one of text, json" in stopped.stderr
