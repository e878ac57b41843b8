"""Books, accounts and journals: the one write path every movement of points goes through.

Idempotency. A journal carries its ``idempotency_key`` (unique within its book; keys beginning
with ``ledger:`` are the ledger's own, such as those of lapsed holds, and refused from callers)
and the hash of its request. The
same key with the same request returns the first journal (``replayed=True``) and writes nothing,
also when both arrive at the same moment; the same key with another request raises
``IdempotencyKeyReused``. A *refused* request (insufficient points, unknown account, invalid
journal) writes nothing, so its key stays free: unlike TigerBeetle, which remembers failed
transfers, a retry after the cause is fixed (the resident earned more points) may succeed. We
chose this because a refusal here is always a reason a person can act on, and the counter retries
with the same key; remembering refusals would need a write outside the refused transaction.

Concurrency. Call these inside one database transaction. On SQLite that transaction began
IMMEDIATE, so it is the only writer. On PostgreSQL the touched accounts are locked ``FOR UPDATE``
in id order before any balance is read or checked, and a CHECK constraint stands behind the
``no_negative`` rule. Everything is read and computed first; the writes come last. On PostgreSQL
all of it (the key check, then the locks, the checks and the writes) is one call of the
``ledger_post`` function, one round trip, so a hot account's lock is held for as short a time as
possible; SQLite, with its single writer, runs the same steps statement by statement.

Why one module of over 400 lines: the write path is one argument. Its locks, checks, hash chain
and replay rule, in both variants, must be read and changed together, and splitting them would
put the invariant across files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ledger.connection import Connection, Row
from ledger.errors import (
    AccountNotFound,
    AlreadyReversed,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidJournal,
    JournalNotFound,
    NotReversible,
)

GENESIS_HASH = ""
RESERVED_PREFIX = "ledger:"

#: On PostgreSQL, write a journal with one call of the ``ledger_post`` function (see
#: ``_post_one_statement``); False falls back to the statement-by-statement path SQLite uses
#: (tests compare the two).
WRITE_IN_ONE_STATEMENT = True

#: Journal kinds that belong to a hold's life and are resolved by holds.py, not reversed.
HOLD_KINDS = frozenset({"hold", "capture", "release", "lapse"})


@dataclass(frozen=True)
class Posting:
    account: str
    amount: int
    balance_after: int
    version: int


@dataclass(frozen=True)
class Journal:
    id: int
    book_id: int
    kind: str
    path: str | None
    memo: str
    created_at: datetime
    postings: tuple[Posting, ...]
    reverses: int | None = None
    replayed: bool = field(default=False, compare=False)


def now() -> datetime:
    return datetime.now(UTC)


def utc(moment: datetime, what: str) -> datetime:
    """``moment`` in UTC; a datetime without a time zone is refused, since the engines would
    disagree on what it means."""
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidJournal(f"{what} must be a datetime with a time zone")
    return moment.astimezone(UTC)


def request_hash(payload: Any) -> str:
    """SHA-256 of the canonical JSON of a request."""
    text = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


def chain_hash(
    prev: str, journal_id: int, account_id: int, version: int, amount: int, balance_after: int
) -> str:
    """The hash of one posting, over the account's previous posting hash."""
    return hashlib.sha256(
        f"{prev}|{journal_id}|{account_id}|{version}|{amount}|{balance_after}".encode()
    ).hexdigest()


async def open_book(conn: Connection, code: str, name: str) -> int:
    """The id of the book ``code``, created if it does not exist yet."""
    await conn.execute(
        "INSERT INTO ledger_book (code, name, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (code) DO NOTHING",
        code,
        name,
        now(),
    )
    return int(await conn.fetchval("SELECT id FROM ledger_book WHERE code = ?", code))


async def open_account(conn: Connection, book_id: int, code: str, *, no_negative: bool) -> int:
    """The id of account ``code`` in the book, created if it does not exist yet."""
    await conn.execute(
        "INSERT INTO ledger_account (book, code, no_negative, balance, version, last_hash, "
        "created_at) VALUES (?, ?, ?, 0, 0, '', ?) ON CONFLICT (book, code) DO NOTHING",
        book_id,
        code,
        no_negative,
        now(),
    )
    row = await conn.fetchrow(
        "SELECT id, no_negative FROM ledger_account WHERE book = ? AND code = ?", book_id, code
    )
    assert row is not None
    if bool(row["no_negative"]) != no_negative:
        raise InvalidJournal(f"account {code!r} exists with no_negative={bool(row['no_negative'])}")
    return int(row["id"])


def _check_legs(legs: Sequence[tuple[str, int]]) -> None:
    if len(legs) < 2:
        raise InvalidJournal("a journal needs at least two postings")
    codes = [code for code, _ in legs]
    if len(set(codes)) != len(codes):
        raise InvalidJournal("a journal touches each account at most once")
    for code, amount in legs:
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise InvalidJournal(f"amount for {code!r} must be a whole number of points")
        if amount == 0:
            raise InvalidJournal(f"amount for {code!r} is zero")
    if sum(amount for _, amount in legs) != 0:
        raise InvalidJournal("the postings of a journal must sum to zero")


async def _lock_accounts(conn: Connection, book_id: int, codes: Sequence[str]) -> dict[str, Row]:
    """The touched accounts, locked in id order on PostgreSQL (SQLite's IMMEDIATE already is)."""
    marks = ", ".join("?" for _ in codes)
    # Lock order matters on PostgreSQL only; on SQLite an ORDER BY would make the planner walk
    # every account of the book instead of using the (book, code) index.
    lock = " ORDER BY id FOR UPDATE" if conn.dialect == "postgres" else ""
    rows = await conn.fetch(
        "SELECT id, code, no_negative, balance, version, last_hash FROM ledger_account "
        f"WHERE book = ? AND code IN ({marks}){lock}",
        book_id,
        *codes,
    )
    found = {row["code"]: row for row in rows}
    for code in codes:
        if code not in found:
            raise AccountNotFound(code)
    return found


async def find_journal(conn: Connection, book_id: int, idempotency_key: str) -> Journal | None:
    """The journal posted in the book under this key, if any."""
    row = await conn.fetchrow(
        "SELECT id FROM ledger_journal WHERE book = ? AND idempotency_key = ?",
        book_id,
        idempotency_key,
    )
    return None if row is None else await get_journal(conn, int(row["id"]))


async def get_journal(conn: Connection, journal_id: int, *, replayed: bool = False) -> Journal:
    row = await conn.fetchrow(
        "SELECT id, book, kind, path, memo, created_at, reverses FROM ledger_journal WHERE id = ?",
        journal_id,
    )
    if row is None:
        raise JournalNotFound(f"no journal {journal_id}")
    postings = await conn.fetch(
        "SELECT a.code, p.amount, p.balance_after, p.version FROM ledger_posting p "
        "JOIN ledger_account a ON a.id = p.account WHERE p.journal = ? ORDER BY p.id",
        journal_id,
    )
    return Journal(
        id=int(row["id"]),
        book_id=int(row["book"]),
        kind=row["kind"],
        path=row["path"],
        memo=row["memo"],
        created_at=row["created_at"],
        reverses=row["reverses"],
        postings=tuple(
            Posting(p["code"], int(p["amount"]), int(p["balance_after"]), int(p["version"]))
            for p in postings
        ),
        replayed=replayed,
    )


async def _replay(conn: Connection, book_id: int, key: str, req_hash: str) -> Journal | None:
    """The first journal under ``key`` if its request was the same; raises if it was not."""
    row = await conn.fetchrow(
        "SELECT id, request_hash FROM ledger_journal WHERE book = ? AND idempotency_key = ?",
        book_id,
        key,
    )
    if row is None:
        return None
    if row["request_hash"] != req_hash:
        raise IdempotencyKeyReused(key)
    return await get_journal(conn, int(row["id"]), replayed=True)


async def post_journal(
    conn: Connection,
    book_id: int,
    kind: str,
    legs: Sequence[tuple[str, int]],
    *,
    idempotency_key: str,
    path: str | None = None,
    memo: str = "",
    req_hash: str | None = None,
    reverses: int | None = None,
    precheck: Any = None,
) -> Journal:
    """Post one balanced journal: ``legs`` are ``(account code, signed amount)``.

    ``req_hash`` defaults to a hash of this call's arguments; pass your own (say, of an HTTP
    request body) to make the API's ``Idempotency-Key`` and the journal's key one and the same.
    ``precheck`` is an async callable run after the accounts are locked and before anything is
    checked, for rules that must be decided under the same locks (a reversal not reversed yet).
    """
    if idempotency_key.startswith(RESERVED_PREFIX):
        raise InvalidJournal(
            f"idempotency keys beginning with {RESERVED_PREFIX!r} are the ledger's own"
        )
    return await _post(
        conn,
        book_id,
        kind,
        legs,
        idempotency_key=idempotency_key,
        path=path,
        memo=memo,
        req_hash=req_hash,
        reverses=reverses,
        precheck=precheck,
    )


async def _post(
    conn: Connection,
    book_id: int,
    kind: str,
    legs: Sequence[tuple[str, int]],
    *,
    idempotency_key: str,
    path: str | None,
    memo: str,
    req_hash: str | None,
    reverses: int | None,
    precheck: Any,
) -> Journal:
    """``post_journal`` without the reserved-key check, for the ledger's own journals."""
    _check_legs(legs)
    if not idempotency_key or len(idempotency_key) > 200:
        raise InvalidJournal("an idempotency key of 1 to 200 characters is required")
    if req_hash is None:
        req_hash = request_hash(
            {
                "book": book_id,
                "kind": kind,
                "legs": list(legs),
                "path": path,
                "memo": memo,
                "reverses": reverses,
            }
        )
    if conn.dialect == "postgres" and WRITE_IN_ONE_STATEMENT:
        if precheck is not None:
            # A rule decided under the locks (reversed once, resolved once) is Python: take the
            # locks and run it first; ledger_post then re-checks everything and writes.
            await _lock_accounts(conn, book_id, [code for code, _ in legs])
            replay = await _replay(conn, book_id, idempotency_key, req_hash)
            if replay is not None:
                return replay
            await precheck()
        return await _post_one_statement(
            conn, book_id, kind, legs, idempotency_key, path, memo, req_hash, reverses
        )

    accounts = await _lock_accounts(conn, book_id, [code for code, _ in legs])

    replay = await _replay(conn, book_id, idempotency_key, req_hash)
    if replay is not None:
        return replay
    if precheck is not None:
        await precheck()

    updates = []
    for code, amount in legs:
        acc = accounts[code]
        after = int(acc["balance"]) + amount
        if acc["no_negative"] and after < 0:
            raise InsufficientFunds(code, int(acc["balance"]), -amount)
        updates.append((acc, amount, after, int(acc["version"]) + 1))

    created_at = now()
    journal_id = await conn.fetchval(
        "INSERT INTO ledger_journal (book, kind, path, memo, idempotency_key, request_hash, "
        "reverses, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (book, idempotency_key) DO NOTHING RETURNING id",
        book_id,
        kind,
        path,
        memo,
        idempotency_key,
        req_hash,
        reverses,
        created_at,
    )
    if journal_id is None:  # the same key committed while we waited for the locks
        replay = await _replay(conn, book_id, idempotency_key, req_hash)
        assert replay is not None
        return replay

    postings, account_rows = [], []
    for acc, amount, after, version in updates:
        digest = chain_hash(acc["last_hash"], journal_id, acc["id"], version, amount, after)
        postings.append((journal_id, acc["id"], amount, version, after, digest))
        account_rows.append((after, version, digest, acc["id"]))
    await conn.executemany(
        "INSERT INTO ledger_posting (journal, account, amount, version, balance_after, hash) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        postings,
    )
    await conn.executemany(
        "UPDATE ledger_account SET balance = ?, version = ?, last_hash = ? WHERE id = ?",
        account_rows,
    )
    return Journal(
        id=int(journal_id),
        book_id=book_id,
        kind=kind,
        path=path,
        memo=memo,
        created_at=created_at,
        reverses=reverses,
        postings=tuple(
            Posting(acc["code"], amount, after, version) for acc, amount, after, version in updates
        ),
    )


async def _post_one_statement(
    conn: Connection,
    book_id: int,
    kind: str,
    legs: Sequence[tuple[str, int]],
    idempotency_key: str,
    path: str | None,
    memo: str,
    req_hash: str,
    reverses: int | None,
) -> Journal:
    """PostgreSQL: the key check, the locks, every check and every write in one round trip
    (``ledger_post``, ledger/sql/ledger_post.sql), so ``budget``'s
    lock is held for one statement and the COMMIT, not for six statements' round trips."""
    created_at = now()
    row = await conn.fetchrow(
        "SELECT status, journal_id, detail, versions, balances "
        "FROM ledger_post(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        book_id,
        kind,
        path,
        memo,
        idempotency_key,
        req_hash,
        reverses,
        created_at,
        [code for code, _ in legs],
        [amount for _, amount in legs],
    )
    assert row is not None
    status = row["status"]
    if status == "posted":
        return Journal(
            id=int(row["journal_id"]),
            book_id=book_id,
            kind=kind,
            path=path,
            memo=memo,
            created_at=created_at,
            reverses=reverses,
            postings=tuple(
                Posting(code, amount, int(after), int(version))
                for (code, amount), after, version in zip(
                    legs, row["balances"], row["versions"], strict=True
                )
            ),
        )
    if status == "replay":
        return await get_journal(conn, int(row["journal_id"]), replayed=True)
    if status == "reused":
        raise IdempotencyKeyReused(idempotency_key)
    if status == "missing":
        raise AccountNotFound(row["detail"])
    if status == "insufficient":
        code = row["detail"]
        raise InsufficientFunds(code, int(row["balances"][0]), -dict(legs)[code])
    raise AssertionError(f"ledger_post returned {status!r}")


async def reverse_journal(
    conn: Connection, journal_id: int, *, idempotency_key: str, memo: str = ""
) -> Journal:
    """Post the mirror image of a journal. A journal is reversed at most once; a reversal, and
    the journals of a hold's life, are not reversible."""
    original = await get_journal(conn, journal_id)
    if original.kind == "reversal":
        raise NotReversible("a reversal cannot itself be reversed")
    if original.kind in HOLD_KINDS:
        raise NotReversible("a hold is resolved by capture or release, not by reversal")

    async def not_reversed_yet() -> None:
        if await conn.fetchval("SELECT id FROM ledger_journal WHERE reverses = ?", journal_id):
            raise AlreadyReversed(f"journal {journal_id} is already reversed")

    return await post_journal(
        conn,
        original.book_id,
        "reversal",
        [(p.account, -p.amount) for p in original.postings],
        idempotency_key=idempotency_key,
        path=original.path,
        memo=memo or f"reversal of journal {journal_id}",
        reverses=journal_id,
        precheck=not_reversed_yet,
    )
