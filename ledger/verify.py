"""Recompute the whole ledger from its postings and report every row that disagrees.

It reads only, in pages, so it can run beside the service. Each problem names its table and row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.connection import Connection
from ledger.holds import HOLDS_ACCOUNT
from ledger.journals import GENESIS_HASH, chain_hash

PAGE = 20_000


@dataclass(frozen=True)
class Problem:
    check: str
    table: str
    row: int
    detail: str

    def __str__(self) -> str:
        return f"{self.table} #{self.row}: {self.check}: {self.detail}"


@dataclass
class Report:
    journals: int = 0
    postings: int = 0
    accounts: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def verify_ledger(conn: Connection) -> Report:
    report = Report()
    add = report.problems.append
    report.journals = int(await conn.fetchval("SELECT COUNT(*) FROM ledger_journal"))
    report.postings = int(await conn.fetchval("SELECT COUNT(*) FROM ledger_posting"))
    report.accounts = int(await conn.fetchval("SELECT COUNT(*) FROM ledger_account"))

    for r in await conn.fetch(
        "SELECT j.id, COUNT(p.id) AS n, COALESCE(SUM(p.amount), 0) AS total FROM ledger_journal j "
        "LEFT JOIN ledger_posting p ON p.journal = j.id GROUP BY j.id "
        "HAVING COUNT(p.id) < 2 OR COALESCE(SUM(p.amount), 0) <> 0"
    ):
        add(
            Problem(
                "zero-sum", "ledger_journal", r["id"], f"{r['n']} postings summing to {r['total']}"
            )
        )
    for r in await conn.fetch("SELECT id FROM ledger_posting WHERE amount = 0"):
        add(Problem("non-zero amount", "ledger_posting", r["id"], "amount is zero"))
    for r in await conn.fetch(
        "SELECT p.id FROM ledger_posting p JOIN ledger_journal j ON j.id = p.journal "
        "JOIN ledger_account a ON a.id = p.account WHERE a.book <> j.book"
    ):
        add(Problem("same book", "ledger_posting", r["id"], "account and journal in other books"))

    await _check_chains(conn, report)

    for r in await conn.fetch(
        "SELECT reverses, COUNT(*) AS n FROM ledger_journal WHERE reverses IS NOT NULL "
        "GROUP BY reverses HAVING COUNT(*) > 1"
    ):
        add(
            Problem(
                "reversed at most once", "ledger_journal", r["reverses"], f"reversed {r['n']} times"
            )
        )
    for r in await conn.fetch(
        "SELECT r.id FROM ledger_journal r WHERE r.reverses IS NOT NULL AND EXISTS ("
        " SELECT 1 FROM ledger_posting rp WHERE rp.journal = r.id AND NOT EXISTS ("
        "  SELECT 1 FROM ledger_posting op WHERE op.journal = r.reverses"
        "  AND op.account = rp.account AND op.amount = -rp.amount))"
    ):
        add(
            Problem(
                "reversal mirrors original",
                "ledger_journal",
                r["id"],
                "postings do not mirror the reversed journal",
            )
        )
    for r in await conn.fetch(
        "SELECT hold, COUNT(*) AS n FROM ledger_hold_resolution GROUP BY hold HAVING COUNT(*) > 1"
    ):
        add(
            Problem(
                "hold resolved at most once", "ledger_hold", r["hold"], f"resolved {r['n']} times"
            )
        )
    for r in await conn.fetch(
        "SELECT a.id, a.balance, COALESCE(SUM(h.amount), 0) AS open FROM ledger_account a "
        "LEFT JOIN (SELECT h.book, h.amount FROM ledger_hold h LEFT JOIN ledger_hold_resolution r "
        "  ON r.hold = h.id WHERE r.id IS NULL) h ON h.book = a.book "
        "WHERE a.code = ? GROUP BY a.id, a.balance HAVING a.balance <> COALESCE(SUM(h.amount), 0)",
        HOLDS_ACCOUNT,
    ):
        add(
            Problem(
                "holds cover open holds",
                "ledger_account",
                r["id"],
                f"holds balance {r['balance']} but open holds total {r['open']}",
            )
        )
    return report


async def _check_chains(conn: Connection, report: Report) -> None:
    """Walk every account's postings in version order: versions, running balance, hash chain."""
    add = report.problems.append
    accounts = {
        int(r["id"]): r
        for r in await conn.fetch(
            "SELECT id, code, no_negative, balance, version, last_hash FROM ledger_account"
        )
    }
    state: dict[int, tuple[int, int, str]] = {}  # account -> (version, balance, hash)
    last = (-1, -1)
    while True:
        rows = await conn.fetch(
            "SELECT id, journal, account, amount, version, balance_after, hash FROM ledger_posting "
            "WHERE account > ? OR (account = ? AND version > ?) ORDER BY account, version LIMIT ?",
            last[0],
            last[0],
            last[1],
            PAGE,
        )
        if not rows:
            break
        for p in rows:
            acc_id = int(p["account"])
            version, balance, prev = state.get(acc_id, (0, 0, GENESIS_HASH))
            pid = int(p["id"])
            amount, after = int(p["amount"]), int(p["balance_after"])
            if int(p["version"]) != version + 1:
                add(
                    Problem(
                        "versions without gaps",
                        "ledger_posting",
                        pid,
                        f"version {p['version']} follows {version}",
                    )
                )
            if after != balance + amount:
                add(
                    Problem(
                        "running balance",
                        "ledger_posting",
                        pid,
                        f"balance_after {after} but {balance} + {amount} = {balance + amount}",
                    )
                )
            account = accounts.get(acc_id)
            if account is not None and account["no_negative"] and after < 0:
                add(
                    Problem(
                        "no_negative",
                        "ledger_posting",
                        pid,
                        f"account {account['code']} at {after}",
                    )
                )
            expected = chain_hash(prev, int(p["journal"]), acc_id, int(p["version"]), amount, after)
            if p["hash"] != expected:
                add(
                    Problem("hash chain", "ledger_posting", pid, "hash does not match its contents")
                )
            state[acc_id] = (int(p["version"]), after, p["hash"])
        last = (int(rows[-1]["account"]), int(rows[-1]["version"]))

    for acc_id, a in accounts.items():
        version, balance, digest = state.get(acc_id, (0, 0, GENESIS_HASH))
        if int(a["balance"]) != balance:
            add(
                Problem(
                    "cached balance",
                    "ledger_account",
                    acc_id,
                    f"{a['code']}: cached {a['balance']}, postings say {balance}",
                )
            )
        if int(a["version"]) != version:
            add(
                Problem(
                    "cached version",
                    "ledger_account",
                    acc_id,
                    f"{a['code']}: cached {a['version']}, postings say {version}",
                )
            )
        if a["last_hash"] != digest:
            add(Problem("hash chain", "ledger_account", acc_id, f"{a['code']}: last hash differs"))
        if a["no_negative"] and int(a["balance"]) < 0:
            add(Problem("no_negative", "ledger_account", acc_id, f"{a['code']} at {a['balance']}"))
