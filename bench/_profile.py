"""Where a request's server time goes, for ``bench/checkout.py --profile``: one worker under
cProfile (``bench/_profile_server.py``), once on the floor (/healthz) and once on checkouts, each
on a fresh database, under the same load as the measured runs. Figures are per checkout (or per
floor request), over the whole life of the server (warm-up included); cProfile roughly doubles
the CPU time of Python code, so read the shares, not the absolute times.
"""

from __future__ import annotations

import io
import json
import pstats
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

OURS = ("/mall/", "/web/", "/ledger/", "/catalog/")


def _top(stats: pstats.Stats, sort: str, n: int, only_ours: bool, per: int) -> list[str]:
    entries = []
    for (file, line, name), (_cc, calls, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]  # typeshed does not declare pstats.Stats.stats
        if only_ours and not any(part in file for part in OURS):
            continue
        entries.append((tt if sort == "tottime" else ct, calls, tt, ct, file, line, name))
    entries.sort(reverse=True)
    lines = [f"    {'own µs':>8} {'incl µs':>9} {'calls':>6}  function"]
    for _key, calls, tt, ct, file, line, name in entries[:n]:
        short = file.split("/site-packages/")[-1].replace(str(Path.cwd()) + "/", "")
        lines.append(
            f"    {tt / per * 1e6:8.1f} {ct / per * 1e6:9.1f} {calls / per:6.1f}  "
            f"{name} ({short}:{line})"
        )
    return lines


def _report(out: Path, what: str, per: int) -> list[str]:
    buf = io.StringIO()
    stats = pstats.Stats(str(out), stream=buf)
    total = sum(tt for (_cc, _n, tt, _ct, _callers) in stats.stats.values())  # type: ignore[attr-defined]  # typeshed does not declare pstats.Stats.stats
    lines = [
        f"  {what}: {per:,} served by one profiled worker; profiled CPU {total / per * 1e6:,.0f} µs "
        f"per {what.split()[0]} (cProfile inflates it)",
        "  top functions by own time:",
        *_top(stats, "tottime", 22, False, per),
        "  our functions by inclusive time:",
        *_top(stats, "cumtime", 22, True, per),
    ]
    sql_path = Path(f"{out}.sql.json")
    if sql_path.exists():
        statements: dict[str, list[float]] = json.loads(sql_path.read_text())
        if statements:
            lines.append("  statements (wall time on the event loop, per checkout):")
            lines.append(f"    {'count':>6} {'µs':>8}  statement")
            for label, (count, seconds) in sorted(statements.items(), key=lambda kv: -kv[1][1]):
                lines.append(f"    {count / per:6.2f} {seconds / per * 1e6:8.1f}  {label}")
            sql = [v for k, v in statements.items() if not k.startswith("(")]
            lines.append(
                f"    {sum(c for c, _ in sql) / per:6.2f} {sum(s for _, s in sql) / per * 1e6:8.1f}"
                "  all statements"
            )
    return lines


def profile_run(
    cfg: Any, engine: Any, seed: Any, work: Path, log: Callable[[str], None]
) -> list[str]:
    checkout = sys.modules["__main__"]  # bench.checkout, run as a script
    lines: list[str] = []
    short = replace(cfg, seconds=min(cfg.seconds, 8.0), warmup=1.0, server_cpus=None)
    for mode in ("floor", "checkout"):
        url = engine.fresh()
        out = work / f"profile-{engine.kind}-{mode}.pstats"
        server = checkout.Server(
            url,
            1,
            None,
            work,
            command=[sys.executable, "-m", "bench._profile_server"],
            extra_env={"BENCH_PROFILE_OUT": str(out)},
        )
        try:
            server.wait_ready()
            result = checkout.run_phase(short, mode, server, seed, f"profile-{mode}", None)
        finally:
            server.stop()
        engine.discard(url)
        kept = Path(tempfile.gettempdir()) / f"bench-checkout-{engine.kind}-{mode}.pstats"
        shutil.copyfile(out, kept)
        lines.append(f"  (cProfile's stats kept in {kept}: python -m pstats {kept})")
        if mode == "floor":
            lines += _report(out, "request to /healthz", max(result["completed"], 1))
        else:
            lines += _report(out, "checkout (pay code + order)", max(result["completed"], 1))
        log(f"  profiled {mode}: {result['per_s']:,.0f}/s under cProfile")
    return lines
