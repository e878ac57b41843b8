"""Lighthouse on the resident's pages, as a phone on a slow network sees them.

    npm install --prefix bench          # once: Lighthouse as pinned in bench/package.json
    .venv/bin/python -m bench.lighthouse [--runs N] [--out DIR]

Starts its own server (``mall serve`` on a temporary SQLite database loaded with ``mall demo``),
creates a resident with a bound phone and a passbook through the mall services, and runs
Lighthouse (Debian's chromium, mobile form factor, default simulated throttling) on the home page
``/`` (signed out) and, when the pages exist, the resident home ``/me`` and the pay code
``/me/pay`` (signed in: in a Chromium of its own that holds the session as a real cookie,
see ``cookie_browser``). Prints performance,
accessibility and best practices for each page against the target (at least 95 each) and, for a
score below target, the audits that cost points; exits 1 when a score is below target. Each
score is the median of ``--runs`` runs (default 3: single runs are noisy on a busy 2-core
machine). The JSON and HTML reports are kept in ``--out`` (default: a new temporary folder,
printed at the end).

Lighthouse 12 and later have no PWA category, so installability is not scored here: the browser
test ``tests/browser/test_pwa.py`` proves it (Chromium's ``Page.getInstallabilityErrors``).
A benchmark, never part of the test suite. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "bench" / "node_modules" / ".bin" / "lighthouse"
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking"
)
CATEGORIES = ("performance", "accessibility", "best-practices")
TARGET = 95
PAGES = [("/", False), ("/me", True), ("/me/pay", True)]  # (path, needs the resident's session)
#: the resident's passbook: (path, points, memo), as mall/demo.py awarded them before mall.demo
#: was split into packages and gave up this list for rules
AWARDS: list[tuple[str, int, str]] = [
    ("timely_help", 20, "为独居老人送餐"),
    ("timely_help", 30, "完成微心愿：帮邻居修轮椅"),
    ("adding_to_good", 10, "参加协商议事会"),
    ("adding_to_good", 15, "响应招募令：清理楼道"),
    ("adding_to_good", 25, "建言献策被采纳：增设晾衣架"),
    ("settling_disputes", 20, "上报楼道堆物隐患"),
    ("settling_disputes", 40, "协助调解邻里漏水纠纷"),
]
INSTALLABILITY_NOTE = (
    "installable: not scored by Lighthouse 12+ (no PWA category); proven by "
    "tests/browser/test_pwa.py::test_home_page_is_installable_with_an_active_service_worker"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def chrome_path() -> str:
    path = os.environ.get("CHROME_PATH") or shutil.which("chromium")
    if not path:
        sys.exit("Debian's chromium is needed: apt-get install chromium (or set CHROME_PATH)")
    return path


def mall(*args: str, env: dict[str, str]) -> None:
    """Run a ``mall`` command quietly (``mall demo`` prints log-ins nobody needs here)."""
    done = subprocess.run(
        [sys.executable, "-m", "mall.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"mall {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def resident_session(database_url: str) -> str:
    """A resident of a new community with a passbook of a dozen entries; returns the session token."""
    import ledger
    from mall.access import Admin
    from mall.db import open_database
    from mall.org import communities, points
    from mall.people import credentials, residents

    admin = Admin(user_id=None, username="lighthouse")
    slug = "lighthouse"

    async def make() -> str:
        db = open_database(database_url)
        try:
            await communities.create_community(db, admin, slug, "灯塔社区")
            await communities.grant_budget(db, admin, slug, 5000, "预算", idempotency_key=slug)
            resident = await residents.create_resident(db, admin, slug, "王秀英", None, None)
            wallet = points.wallet(resident.id)
            async with db.transaction() as conn:
                book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", slug)
                for n in range(12):
                    path, amount, memo = AWARDS[n % len(AWARDS)]
                    await ledger.post_journal(
                        conn,
                        book,
                        "award",
                        [(points.BUDGET, -amount), (wallet, amount)],
                        idempotency_key=f"{slug}:award:{n}",
                        path=path,
                        memo=memo,
                    )
            activation = await credentials.issue_activation(db, admin, resident.id)
            token, _ = await credentials.activate(db, activation.code)
            return token
        finally:
            await db.close()

    return asyncio.run(make())


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "mall.cli", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return server
        except httpx.TransportError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                sys.exit(f"the server did not start:\n{log.read_text()}")
            time.sleep(0.2)


def cookie_browser(
    chrome: str, folder: Path, base: str, cookies: dict[str, str]
) -> tuple[subprocess.Popen[bytes], int]:
    """A Chromium of our own that holds ``cookies`` for ``base`` as real cookies; returns it and
    its debugging port, for ``lighthouse(..., port=...)``.

    Lighthouse's ``--extra-headers`` puts a Cookie header on the document's request, but Chromium
    does not send it with the page's own ``fetch()`` and htmx requests: signed in that way, the
    pay page's offline-code fetch and its status poll came back signed out (303 to ``/start``),
    and one run of ``/me/pay`` ended on ``/start``. Lighthouse's storage reset leaves cookies."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    browser = subprocess.Popen(
        [
            chrome,
            *CHROME_FLAGS.split(),
            f"--remote-debugging-port={port}",
            f"--user-data-dir={folder}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/json/version", timeout=2)
            break
        except httpx.TransportError:
            if browser.poll() is not None or time.monotonic() > deadline:
                browser.kill()
                sys.exit("chromium did not start with a debugging port")
            time.sleep(0.2)
    with sync_playwright() as p:
        connected = p.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
        connected.contexts[0].add_cookies(
            [{"name": k, "value": v, "url": base} for k, v in cookies.items()]
        )
    return browser, port


def lighthouse(
    url: str, headers: dict[str, str], report: Path, chrome: str, port: int | None = None
) -> dict[str, Any]:
    """One Lighthouse run; returns its JSON report (also kept beside an HTML one). With ``port``,
    in that running Chromium (``cookie_browser``) instead of one Lighthouse starts."""
    command = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        f"--port={port}" if port else f"--chrome-flags={CHROME_FLAGS}",
        "--form-factor=mobile",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--extra-headers={json.dumps(headers)}",
        "--output=json",
        "--output=html",
        f"--output-path={report}",
    ]
    env = {**os.environ, "CHROME_PATH": chrome}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        sys.exit(f"lighthouse failed on {url}:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(report.with_suffix(".report.json").read_text())
    return result


def version(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True).stdout.strip()


def lost_points(result: dict[str, Any], category: str) -> list[str]:
    """The weighted audits of a category that did not score full marks, worst first."""
    audits = result["audits"]
    lost = []
    for ref in result["categories"][category]["auditRefs"]:
        audit = audits[ref["id"]]
        score = audit.get("score")
        if ref["weight"] > 0 and score is not None and score < 1:
            value = audit.get("displayValue") or ""
            lost.append((score, f"{audit['id']} ({score:.2f}) {audit['title']} {value}".rstrip()))
    return [text for _, text in sorted(lost)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, default=3, help="runs per page, the median counts (default 3)"
    )
    parser.add_argument("--out", type=Path, help="folder for the reports (default: a temp folder)")
    args = parser.parse_args(argv)
    if not LIGHTHOUSE.exists():
        sys.exit("Lighthouse is not installed: npm install --prefix bench")
    chrome = chrome_path()
    work = Path(tempfile.mkdtemp(prefix="mall-lighthouse-"))
    out = args.out or work / "reports"
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    database_url = f"sqlite:///{work / 'mall.db'}"
    env = {
        **os.environ,
        "MALL_DATABASE_URL": database_url,
        "MALL_VAR_DIR": str(work / "var"),
        "MALL_BASE_URL": f"http://127.0.0.1:{port}",
        "PICCOLO_CONF": "mall.piccolo_conf",
    }
    os.environ.update({k: env[k] for k in ("MALL_DATABASE_URL", "MALL_VAR_DIR", "MALL_BASE_URL")})
    mall("demo", env=env)
    token = resident_session(database_url)
    server = start_server(env, port, work / "server.log")
    base = f"http://127.0.0.1:{port}"
    failed = False
    signed_in_browser, debug_port = cookie_browser(
        chrome, work / "chrome", base, {"lang": "zh_Hans", "mall_session": token}
    )
    try:
        print(
            f"Lighthouse {version([str(LIGHTHOUSE), '--version'])} · "
            f"{version([chrome, '--version'])} · mobile, simulated throttling"
        )
        print(f"{'page':<10} " + " ".join(f"{c:>15}" for c in CATEGORIES))
        for path, signed_in in PAGES:
            headers = {"Cookie": "lang=zh_Hans" + (f"; mall_session={token}" if signed_in else "")}
            probe = httpx.get(f"{base}{path}", headers=headers, follow_redirects=False)
            if probe.status_code == 404:
                print(f"{path:<10} (no such page yet: skipped)")
                continue
            if probe.status_code != 200:
                print(f"{path:<10} answers {probe.status_code}, not 200: fix the page first")
                failed = True
                continue
            runs = []
            for n in range(args.runs):
                name = path.strip("/").replace("/", "-") or "home"
                runs.append(
                    lighthouse(
                        f"{base}{path}",
                        {} if signed_in else headers,  # the signed-in browser holds the cookies
                        out / f"{name}-{n + 1}",
                        chrome,
                        debug_port if signed_in else None,
                    )
                )
            broken = [
                f"{r['finalDisplayedUrl']}: {c} not scored"
                for r in runs
                for c in CATEGORIES
                if r["categories"][c]["score"] is None
            ]
            broken += [
                f"run {n + 1} ended on {r['finalDisplayedUrl']}"
                for n, r in enumerate(runs)
                if r["finalDisplayedUrl"] != f"{base}{path}"
            ]
            if broken:  # an audit Lighthouse could not run leaves its category without a score
                print(f"{path:<10} " + "; ".join(broken) + f" (reports in {out})")
                failed = True
                continue
            scores = {
                c: round(statistics.median(r["categories"][c]["score"] * 100 for r in runs))
                for c in CATEGORIES
            }
            print(
                f"{path:<10} "
                + " ".join(
                    f"{scores[c]:>11} {'ok' if scores[c] >= TARGET else 'LOW':>3}"
                    for c in CATEGORIES
                )
            )
            if args.runs > 1:
                each = {
                    c: [round(r["categories"][c]["score"] * 100) for r in runs] for c in CATEGORIES
                }
                print(f"{'':<10}   runs: " + "; ".join(f"{c} {each[c]}" for c in CATEGORIES))
            for c in CATEGORIES:
                if scores[c] >= TARGET:
                    continue
                failed = True
                # What cost the points, in the run whose score is the median.
                median_run = sorted(runs, key=lambda r: r["categories"][c]["score"])[len(runs) // 2]
                for line in lost_points(median_run, c):
                    print(f"{'':<10}   {c}: {line}")
        print(f"target: at least {TARGET} in each category")
        print(INSTALLABILITY_NOTE)
        print(f"reports: {out}")
    finally:
        signed_in_browser.terminate()
        signed_in_browser.wait(timeout=30)
        server.terminate()
        server.wait(timeout=30)
    print("BELOW TARGET" if failed else "all pages at or above target")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
