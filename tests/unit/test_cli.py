"""The ``mall`` command, run as a user runs it, in a subprocess, on the engine under test."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ENGINE, ENGINE_URL, pg_admin, run_mall, with_database
from tests.support import free_port


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, not even the schema."""
    if ENGINE == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"mall_empty_{os.getpid()}"
    pg_admin(ENGINE_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    yield with_database(ENGINE_URL, name)
    pg_admin(ENGINE_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_migrate_creates_the_schema_on_an_empty_database_and_is_repeatable(empty_url: str) -> None:
    first = run_mall("migrate", url=empty_url)
    assert "database is up to date" in first.stdout
    again = run_mall("migrate", url=empty_url)
    assert again.returncode == 0
    assert "no problems found" in run_mall("verify", url=empty_url).stdout


def test_demo_loads_once_and_verifies_clean(empty_url: str) -> None:
    loaded = run_mall("demo", url=empty_url)
    assert "demo loaded" in loaded.stdout and "幸福里社区" in loaded.stdout
    again = run_mall("demo", url=empty_url)
    assert "demo not loaded" in again.stdout
    verified = run_mall("verify", url=empty_url)
    assert verified.returncode == 0 and "no problems found" in verified.stdout


def test_verify_exits_non_zero_and_names_the_row_after_tampering(empty_url: str) -> None:
    run_mall("demo", url=empty_url)
    if ENGINE == "sqlite":
        import sqlite3

        conn = sqlite3.connect(empty_url.removeprefix("sqlite:///"))
        conn.execute("DROP TRIGGER ledger_posting_no_update")
        conn.execute("UPDATE ledger_posting SET amount = amount + 1 WHERE id = 7")
        conn.commit()
        conn.close()
    else:
        pg_admin(
            empty_url,
            "DROP TRIGGER ledger_posting_append_only ON ledger_posting",
            "UPDATE ledger_posting SET amount = amount + 1 WHERE id = 7",
        )
    result = run_mall("verify", url=empty_url, check=False)
    assert result.returncode == 1
    assert "ledger_posting #7: hash chain" in result.stdout
    assert "problems found" in result.stdout


def test_serve_migrates_then_answers_health_and_the_home_page(
    empty_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {**os.environ, "MALL_DATABASE_URL": empty_url, "MALL_VAR_DIR": str(tmp_path / "var")}
    server = subprocess.Popen(
        [sys.executable, "-m", "mall.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        home = httpx.get(f"http://127.0.0.1:{port}/")
        assert home.status_code == 200 and "邻里积分超市" in home.text
        assert "no problems found" in run_mall("verify", url=empty_url).stdout  # it migrated
        assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("MALL_DB_POOL_SIZE", "many", "MALL_DB_POOL_SIZE must be a whole number from 1 to 100"),
        (
            "MALL_RESERVATION_DAYS",
            "90",
            "MALL_RESERVATION_DAYS must be a whole number from 1 to 60",
        ),
    ],
)
def test_a_wrong_setting_stops_serve_with_its_name_and_no_traceback(
    empty_url: str, name: str, value: str, says: str
) -> None:
    env = {**os.environ, "MALL_DATABASE_URL": empty_url, name: value}
    run = subprocess.run(
        [sys.executable, "-m", "mall.cli", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert says in run.stderr
    assert "Traceback" not in run.stderr
