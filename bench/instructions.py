"""The server's CPU instructions per checkout, counted by Valgrind's callgrind: a figure that does
not move with the machine's load, for comparing two commits where checkouts per second
(bench/checkout.py) is too noisy to show a difference of a few per cent.

    .venv/bin/python -m bench.instructions [--checkouts 300] [--warmup 100] [--json]

1. A SQLite database migrated and seeded as bench/checkout.py does (one outlet, 64 residents).
2. ``mall serve --workers 1`` under ``valgrind --tool=callgrind --instr-atstart=no``: the
   server starts and warms up uninstrumented (``--warmup`` checkouts), then
   ``callgrind_control -i on`` counts every instruction the server process runs (Python, uvicorn,
   Litestar, SQLite's C code; not the kernel's) while one client makes ``--checkouts`` checkouts
   one after another (GET /api/v1/me/pay-code, then POST /api/v1/outlets/{id}/orders), and
   ``callgrind_control -i off`` ends the count.
3. It prints instructions per checkout, and the same for ``--floor`` GET /healthz requests
   counted the same way (the floor of a request through the same server).

To compare with another commit, run this file with that commit's tree as the working directory
(it seeds and serves the tree it is run in; bench/checkout.py there must have ``seed``,
``migrate`` and ``Server``, as it has since 1b8583b):

    git worktree add --detach ../before 1b8583b
    (cd ../before && ../main/.venv/bin/python ../main/bench/instructions.py)
    .venv/bin/python -m bench.instructions

Needs valgrind (``apt-get install valgrind``). Each run takes about a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.getcwd())  # the tree to measure is the working directory's

from bench import checkout as tree  # noqa: E402


def _control(pid: int, *args: str) -> None:
    """``callgrind_control``, which exits 0 whatever happens: its answer must say OK."""
    done = subprocess.run(
        ["callgrind_control", *args, str(pid)], capture_output=True, text=True, timeout=300
    )
    if "OK" not in done.stdout:
        raise RuntimeError(f"callgrind_control {' '.join(args)} {pid}: {done.stdout}{done.stderr}")


def _valgrind_pid(root: int) -> int:
    """Debian's ``valgrind`` is a shell script that runs ``valgrind.bin`` as its child."""
    for pid in tree.tree_pids(root):
        if "valgrind.bin" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
            return pid
    raise RuntimeError("no valgrind.bin under the server's process")


def _count(pid: int, on: bool) -> None:
    _control(pid, "-i", "on" if on else "off")


def _dumped_instructions(pid: int, out: Path) -> int:
    """Dump the counters now and sum the ``totals:`` lines of the dumps so far."""
    _control(pid, "-d")
    total = 0
    for path in out.parent.glob(out.name + "*"):
        text = path.read_text(errors="replace")
        found = re.search(r"^totals: (\d+)", text, re.MULTILINE)
        total += int(found.group(1)) if found else 0
    return total


class Client:
    def __init__(self, port: int, seed: Any) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        self.seed = seed
        self.n = 0

    def _request(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> Any:
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def healthz(self) -> None:
        status, body = self._request("GET", "/healthz", {}, None)
        assert status == 200, (status, body)

    def checkout(self) -> None:
        self.n += 1
        seed = self.seed
        resident = seed.resident_tokens[self.n % len(seed.resident_tokens)]
        status, body = self._request(
            "GET", "/api/v1/me/pay-code", {"Authorization": f"Bearer {resident}"}, None
        )
        assert status == 200, (status, body)
        payload = {
            "code": json.loads(body)["code"],
            "lines": [{"sku": seed.skus[self.n % len(seed.skus)], "quantity": 1}],
        }
        status, body = self._request(
            "POST",
            f"/api/v1/outlets/{seed.outlet_ids[0]}/orders",
            {
                "Authorization": f"Bearer {seed.volunteer_token}",
                "Content-Type": "application/json",
                "Idempotency-Key": f"instructions-{os.getpid()}-{self.n}",
            },
            json.dumps(payload).encode(),
        )
        assert status == 201, (status, body)


def measure(checkouts: int, warmup: int, floor: int, keep: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-instr-") as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'mall.sqlite3'}"
        tree.migrate(url, work)
        seed = asyncio.run(tree.seed(url, 64))
        out = work / "callgrind.out"
        os.environ["PYTHONHASHSEED"] = "0"  # the same dict layouts, run after run
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "mall.cli",
            "serve",
        ]
        server = tree.Server(url, 1, None, work, command=command)
        try:
            server.wait_ready(timeout=600)
            pid = _valgrind_pid(server.proc.pid)
            client = Client(server.port, seed)
            for _ in range(warmup):
                client.checkout()
            for _ in range(warmup):
                client.healthz()
            figures: dict[str, Any] = {}
            for name, calls, call in (
                ("checkout", checkouts, client.checkout),
                ("healthz", floor, client.healthz),
            ):
                before = _dumped_instructions(pid, out)
                _count(pid, True)
                started = time.monotonic()
                for _ in range(calls):
                    call()
                _count(pid, False)
                counted = _dumped_instructions(pid, out) - before
                if keep is not None:  # the newest dump holds just these calls
                    newest = max(out.parent.glob(out.name + ".*"), key=lambda f: f.stat().st_mtime)
                    keep.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(newest, keep / f"callgrind.{name}.out")
                figures[name] = {
                    "calls": calls,
                    "instructions": counted,
                    "per_call": counted / calls,
                    "seconds": round(time.monotonic() - started, 1),
                }
        finally:
            server.stop()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkouts", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--floor", type=int, default=300, help="GET /healthz requests counted")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--keep",
        type=Path,
        help="copy each phase's callgrind file here (callgrind_annotate FILE shows where it went)",
    )
    args = parser.parse_args(argv)
    figures = measure(args.checkouts, args.warmup, args.floor, args.keep)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print(f"Server instructions (callgrind), tree {os.getcwd()} at {commit or '?'}:")
    for name, f in figures.items():
        print(
            f"  {name:9} {f['per_call']:>14,.0f} instructions per call "
            f"({f['calls']} calls, {f['instructions']:,} in all, {f['seconds']} s under valgrind)"
        )
    ratio = figures["checkout"]["per_call"] / figures["healthz"]["per_call"]
    print(f"  checkout / healthz: {ratio:.1f}")
    if args.json:
        print(json.dumps({"commit": commit, **figures}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
