"""Schemathesis against the running API (``/schema/openapi.json``), as an admin, a staff member, a
volunteer and a resident, on the demo's data: thousands of generated requests, and not one may
be answered with a 5xx or with a body its documented schema does not allow."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from mall.db import Database
from mall.people import auth, users
from tests.conftest import run_mall
from tests.support import serving

#: Generated examples per operation and phase; fixed seed, so a failure can be replayed.
EXAMPLES = "10"
SEED = "20261204"


async def tokens(db: Database) -> dict[str, str]:
    """A bearer token for each kind of caller, over the demo's first community."""
    made = {}
    for role in ("admin", "staff", "volunteer"):
        community = None if role == "admin" else "xingfuli"
        user = await users.create_user_unchecked(
            db, f"fuzz-{role}", "fuzz password", role, community
        )
        async with db.transaction() as conn:
            made[role] = await auth.create_session(conn, "api", user_id=user.id, ttl=auth.API_TOKEN)
    async with db.transaction() as conn:
        resident = await conn.fetchval("SELECT MIN(id) FROM mall_resident")
        made["resident"] = await auth.create_session(
            conn, "resident", resident_id=int(resident), ttl=timedelta(days=1)
        )
    return made


@pytest.mark.parametrize("role", ["admin", "staff", "volunteer", "resident"])
async def test_no_generated_request_gets_a_server_error_or_an_answer_off_its_schema(
    db: Database, db_url: str, tmp_path: Path, role: str
) -> None:
    run_mall("demo", url=db_url)
    token = (await tokens(db))[role]
    with serving(db_url, tmp_path) as base:
        fuzz = subprocess.run(
            [
                str(Path(sys.executable).with_name("st")), "run", f"{base}/schema/openapi.json",
                "--header", f"Authorization: Bearer {token}",
                "--checks", "not_a_server_error,response_schema_conformance",
                "--max-examples", EXAMPLES, "--seed", SEED, "--no-color",
                "--request-timeout", "20",
            ],
            capture_output=True, text=True, timeout=600, cwd=tmp_path,
            env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false"},
        )  # fmt: skip
    summary = fuzz.stdout[fuzz.stdout.find("SUMMARY") :]
    assert fuzz.returncode == 0, fuzz.stdout[-6000:] + fuzz.stderr[-2000:]
    assert " passed" in summary and "failed" not in summary.split("Test cases:")[-1], summary
