"""Two-phase holds: points set aside for a reservation until captured, released or lapsed.

A hold moves the points from the account into the book's ``holds`` account (which the book must
have, opened with ``no_negative``) and records a row with its deadline. It is resolved at most once: a resolution row,
unique per hold, is written in the same transaction as the journal that resolves it, and it is
checked for under the same account locks. Capturing part of a hold returns the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ledger.connection import Connection
from ledger.errors import HoldAlreadyResolved, HoldNotFound, InvalidJournal
from ledger.journals import (
    RESERVED_PREFIX,
    Journal,
    _post,
    find_journal,
    get_journal,
    now,
    post_journal,
    request_hash,
    utc,
)

HOLDS_ACCOUNT = "holds"


@dataclass(frozen=True)
class Hold:
    id: int
    book_id: int
    account: str
    amount: int
    expires_at: datetime
    journal: Journal
    outcome: str | None = None
    """``None`` while open, else ``captured``, ``released`` or ``lapsed``."""
    replayed: bool = False
    """True when this call was a retry of an earlier one with the same key and request."""


async def place_hold(
    conn: Connection,
    book_id: int,
    account: str,
    amount: int,
    *,
    expires_at: datetime,
    idempotency_key: str,
    memo: str = "",
) -> Hold:
    """Set ``amount`` points of ``account`` aside until ``expires_at``."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidJournal("a hold is a positive whole number of points")
    expires_at = utc(expires_at, "a hold's deadline")
    if expires_at <= now() and await find_journal(conn, book_id, idempotency_key) is None:
        raise InvalidJournal("a hold's deadline must be in the future")
    journal = await post_journal(
        conn,
        book_id,
        "hold",
        [(account, -amount), (HOLDS_ACCOUNT, amount)],
        idempotency_key=idempotency_key,
        memo=memo,
        req_hash=request_hash(
            {
                "op": "hold",
                "book": book_id,
                "account": account,
                "amount": amount,
                "expires_at": expires_at.isoformat(),
                "memo": memo,
            }
        ),
    )
    if not journal.replayed:
        account_id = await conn.fetchval(
            "SELECT id FROM ledger_account WHERE book = ? AND code = ?", book_id, account
        )
        await conn.execute(
            "INSERT INTO ledger_hold (book, journal, account, amount, expires_at) "
            "VALUES (?, ?, ?, ?, ?)",
            book_id,
            journal.id,
            account_id,
            amount,
            expires_at,
        )
    hold_id = await conn.fetchval("SELECT id FROM ledger_hold WHERE journal = ?", journal.id)
    return replace(await get_hold(conn, int(hold_id)), replayed=journal.replayed)


async def get_hold(conn: Connection, hold_id: int) -> Hold:
    row = await conn.fetchrow(
        "SELECT h.id, h.book, a.code, h.amount, h.expires_at, h.journal, r.outcome "
        "FROM ledger_hold h JOIN ledger_account a ON a.id = h.account "
        "LEFT JOIN ledger_hold_resolution r ON r.hold = h.id WHERE h.id = ?",
        hold_id,
    )
    if row is None:
        raise HoldNotFound(f"no hold {hold_id}")
    return Hold(
        id=int(row["id"]),
        book_id=int(row["book"]),
        account=row["code"],
        amount=int(row["amount"]),
        expires_at=row["expires_at"],
        journal=await get_journal(conn, int(row["journal"])),
        outcome=row["outcome"],
    )


async def _resolve(
    conn: Connection,
    hold: Hold,
    outcome: str,
    legs: list[tuple[str, int]],
    *,
    idempotency_key: str,
    memo: str,
) -> Journal:
    async def still_open() -> None:
        if await conn.fetchval(
            "SELECT outcome FROM ledger_hold_resolution WHERE hold = ?", hold.id
        ):
            raise HoldAlreadyResolved(f"hold {hold.id} is already resolved")

    kind = {"captured": "capture", "released": "release", "lapsed": "lapse"}[outcome]
    post = _post if outcome == "lapsed" else post_journal  # lapses use the ledger's own keys
    journal = await post(
        conn,
        hold.book_id,
        kind,
        [leg for leg in legs if leg[1] != 0],
        idempotency_key=idempotency_key,
        path=None,
        reverses=None,
        memo=memo or f"{outcome} hold {hold.id}",
        req_hash=request_hash({"op": outcome, "hold": hold.id, "legs": legs, "memo": memo}),
        precheck=still_open,
    )
    if not journal.replayed:
        await conn.execute(
            "INSERT INTO ledger_hold_resolution (hold, journal, outcome) VALUES (?, ?, ?)",
            hold.id,
            journal.id,
            outcome,
        )
    return journal


async def capture_hold(
    conn: Connection,
    hold_id: int,
    to_account: str,
    amount: int | None = None,
    *,
    idempotency_key: str,
    memo: str = "",
) -> Journal:
    """Pay ``amount`` (default: all) of the hold to ``to_account``; the rest goes back."""
    hold = await get_hold(conn, hold_id)
    amount = hold.amount if amount is None else amount
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= hold.amount:
        raise InvalidJournal(f"a capture is between 1 and {hold.amount} points")
    legs = [
        (HOLDS_ACCOUNT, -hold.amount),
        (to_account, amount),
        (hold.account, hold.amount - amount),
    ]
    return await _resolve(conn, hold, "captured", legs, idempotency_key=idempotency_key, memo=memo)


async def release_hold(
    conn: Connection, hold_id: int, *, idempotency_key: str, memo: str = ""
) -> Journal:
    """Give the whole hold back to its account."""
    hold = await get_hold(conn, hold_id)
    legs = [(HOLDS_ACCOUNT, -hold.amount), (hold.account, hold.amount)]
    return await _resolve(conn, hold, "released", legs, idempotency_key=idempotency_key, memo=memo)


async def lapse_holds(conn: Connection, *, at: datetime | None = None) -> list[Journal]:
    """Release every open hold whose deadline has passed; safe to run from several places at once."""
    at = utc(at, "the lapse time") if at is not None else now()
    rows = await conn.fetch(
        "SELECT h.id FROM ledger_hold h LEFT JOIN ledger_hold_resolution r ON r.hold = h.id "
        "WHERE r.id IS NULL AND h.expires_at <= ? ORDER BY h.id",
        at,
    )
    lapsed = []
    for row in rows:
        hold = await get_hold(conn, int(row["id"]))
        legs = [(HOLDS_ACCOUNT, -hold.amount), (hold.account, hold.amount)]
        try:
            journal = await _resolve(
                conn,
                hold,
                "lapsed",
                legs,
                idempotency_key=f"{RESERVED_PREFIX}lapse:hold:{hold.id}",
                memo="lapsed",
            )
        except HoldAlreadyResolved:
            continue
        if not journal.replayed:
            lapsed.append(journal)
    return lapsed


async def held_amount(conn: Connection, book_id: int, account: str) -> int:
    """The points of the account set aside in holds not yet resolved."""
    return int(
        await conn.fetchval(
            "SELECT COALESCE(SUM(h.amount), 0) FROM ledger_hold h "
            "JOIN ledger_account a ON a.id = h.account "
            "LEFT JOIN ledger_hold_resolution r ON r.hold = h.id "
            "WHERE a.book = ? AND a.code = ? AND r.id IS NULL",
            book_id,
            account,
        )
    )


async def open_holds(conn: Connection, book_id: int, account: str) -> list[Hold]:
    """The account's unresolved holds, oldest first."""
    rows = await conn.fetch(
        "SELECT h.id FROM ledger_hold h JOIN ledger_account a ON a.id = h.account "
        "LEFT JOIN ledger_hold_resolution r ON r.hold = h.id "
        "WHERE h.book = ? AND a.code = ? AND r.id IS NULL ORDER BY h.id",
        book_id,
        account,
    )
    return [await get_hold(conn, int(r["id"])) for r in rows]
