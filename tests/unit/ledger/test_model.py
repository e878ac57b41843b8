"""A model-based test of the ledger: Hypothesis drives the real ledger on a real database.

Every step (a grant, an award on one of the three paths, a redemption, a reversal, a hold and its
capture, release or lapse, a retry with a used key, a refused request and its later retry) is
first predicted by a small in-memory model of balances, journals, keys and holds, then run on the
database, and the outcome must match the prediction exactly: the same error, or the same postings
with the same running balances and versions, or a replay of the first journal. After every step the
balances, the journal count and the holds are compared with the model, the book must sum to zero,
no ``no_negative`` account may be below zero, and ``verify_ledger`` must find no problem.

Each Hypothesis example gets its own event loop and its own fresh, migrated database: a copy of the
SQLite template, or ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL (``MALL_DATABASE_URL``).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import ledger
from ledger import (
    HOLDS_ACCOUNT,
    AlreadyReversed,
    Hold,
    HoldAlreadyResolved,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidJournal,
    Journal,
    LedgerError,
    NotReversible,
    Posting,
)
from ledger.journals import HOLD_KINDS
from mall.db import Database, open_database
from mall.org import points
from tests.conftest import ENGINE, ENGINE_URL, pg_admin, with_database

OUTLET = points.redeemed(1, 0)  # one of outlet 1's accounts: the model needs one
RESIDENTS = (1, 2, 3)
WALLETS = tuple(points.wallet(i) for i in RESIDENTS)
REVERSIBLE = frozenset({"grant", "award", "redemption"})
#: The model's clock starts here; deadlines and lapse times are drawn after it.
EPOCH = datetime(2031, 3, 1, 8, 0, tzinfo=UTC)
#: Deadlines and lapse times are written in these zones (the ledger must compare instants).
ZONES = (UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-3, minutes=-30)))

_databases = itertools.count()


# --- requests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    amount: int


@dataclass(frozen=True)
class Award:
    path: str
    resident: int
    amount: int


@dataclass(frozen=True)
class Redeem:
    resident: int
    amount: int


@dataclass(frozen=True)
class Reverse:
    journal_id: int


@dataclass(frozen=True)
class PlaceHold:
    resident: int
    amount: int
    expires_at: datetime


@dataclass(frozen=True)
class Capture:
    hold_id: int
    amount: int | None  # None: all of it


@dataclass(frozen=True)
class Release:
    hold_id: int


Request = Grant | Award | Redeem | Reverse | PlaceHold | Capture | Release


async def execute(conn: ledger.Connection, book: int, req: Request, key: str) -> Journal | Hold:
    """Run one request on the real ledger."""
    match req:
        case Grant(amount):
            legs = [(points.MINT, -amount), (points.BUDGET, amount)]
            return await ledger.post_journal(conn, book, "grant", legs, idempotency_key=key)
        case Award(path, resident, amount):
            legs = [(points.BUDGET, -amount), (points.wallet(resident), amount)]
            return await ledger.post_journal(
                conn, book, "award", legs, idempotency_key=key, path=path
            )
        case Redeem(resident, amount):
            legs = [(points.wallet(resident), -amount), (OUTLET, amount)]
            return await ledger.post_journal(conn, book, "redemption", legs, idempotency_key=key)
        case Reverse(journal_id):
            return await ledger.reverse_journal(conn, journal_id, idempotency_key=key)
        case PlaceHold(resident, amount, expires_at):
            return await ledger.place_hold(
                conn,
                book,
                points.wallet(resident),
                amount,
                expires_at=expires_at,
                idempotency_key=key,
            )
        case Capture(hold_id, amount):
            return await ledger.capture_hold(conn, hold_id, OUTLET, amount, idempotency_key=key)
        case Release(hold_id):
            return await ledger.release_hold(conn, hold_id, idempotency_key=key)
    raise AssertionError(f"unknown request {req!r}")


# --- the model ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    error: type[LedgerError]
    shortfall: tuple[str, int, int] | None = None  # InsufficientFunds: account, balance, amount


@dataclass(frozen=True)
class Replay:
    key: str


@dataclass(frozen=True)
class Accept:
    kind: str
    path: str | None
    memo: str
    legs: tuple[tuple[str, int], ...]  # only the non-zero ones, in posting order
    reverses: int | None = None


@dataclass
class JournalRecord:
    kind: str
    path: str | None
    legs: tuple[tuple[str, int], ...]


@dataclass
class HoldRecord:
    account: str
    amount: int
    expires_at: datetime
    journal_id: int
    outcome: str | None = None


@dataclass
class KeyRecord:
    request: Request
    identity: tuple[Any, ...]
    result: Journal | Hold


@dataclass
class Model:
    balances: dict[str, int]
    versions: dict[str, int]
    no_negative: dict[str, bool]
    journals: dict[int, JournalRecord] = field(default_factory=dict)
    reversed_by: dict[int, int] = field(default_factory=dict)
    holds: dict[int, HoldRecord] = field(default_factory=dict)
    keys: dict[str, KeyRecord] = field(default_factory=dict)
    refused: dict[str, Request] = field(default_factory=dict)
    clock: datetime = EPOCH

    def identity(self, req: Request) -> tuple[Any, ...]:
        """What the ledger's request hash sees: equal identities are the same request."""
        match req:
            case PlaceHold(resident, amount, expires_at):
                return ("hold", resident, amount, expires_at.isoformat())
            case Capture(hold_id, amount):
                full = self.holds[hold_id].amount
                return ("capture", hold_id, full if amount is None else amount)
        return (type(req).__name__, *vars(req).values())

    def plan(self, req: Request) -> Accept:
        """The journal a request would post if nothing stops it."""
        match req:
            case Grant(amount):
                return Accept("grant", None, "", ((points.MINT, -amount), (points.BUDGET, amount)))
            case Award(path, resident, amount):
                legs: tuple[tuple[str, int], ...] = (
                    (points.BUDGET, -amount),
                    (points.wallet(resident), amount),
                )
                return Accept("award", path, "", legs)
            case Redeem(resident, amount):
                return Accept(
                    "redemption", None, "", ((points.wallet(resident), -amount), (OUTLET, amount))
                )
            case Reverse(journal_id):
                original = self.journals[journal_id]
                legs = tuple((account, -amount) for account, amount in original.legs)
                memo = f"reversal of journal {journal_id}"
                return Accept("reversal", original.path, memo, legs, reverses=journal_id)
            case PlaceHold(resident, amount, _):
                return Accept(
                    "hold", None, "", ((points.wallet(resident), -amount), (HOLDS_ACCOUNT, amount))
                )
            case Capture(hold_id, amount):
                hold = self.holds[hold_id]
                taken = hold.amount if amount is None else amount
                legs = (
                    (HOLDS_ACCOUNT, -hold.amount),
                    (OUTLET, taken),
                    (hold.account, hold.amount - taken),
                )
                return Accept(
                    "capture",
                    None,
                    f"captured hold {hold_id}",
                    tuple(leg for leg in legs if leg[1]),
                )
            case Release(hold_id):
                return self.give_back(hold_id, "release", f"released hold {hold_id}")
        raise AssertionError(f"unknown request {req!r}")

    def give_back(self, hold_id: int, kind: str, memo: str) -> Accept:
        hold = self.holds[hold_id]
        return Accept(
            kind, None, memo, ((HOLDS_ACCOUNT, -hold.amount), (hold.account, hold.amount))
        )

    def predict(self, req: Request, key: str) -> Refused | Replay | Accept:
        """What the ledger must do with ``req`` under ``key``, checked in the ledger's order."""
        if isinstance(req, Reverse):
            kind = self.journals[req.journal_id].kind
            if kind == "reversal" or kind in HOLD_KINDS:
                return Refused(NotReversible)
        if isinstance(req, Capture) and req.amount not in (
            None,
            *range(1, self.holds[req.hold_id].amount + 1),
        ):
            return Refused(InvalidJournal)
        if key in self.keys:
            if self.keys[key].identity == self.identity(req):
                return Replay(key)
            return Refused(IdempotencyKeyReused)
        if isinstance(req, Reverse) and req.journal_id in self.reversed_by:
            return Refused(AlreadyReversed)
        if isinstance(req, Capture | Release) and self.holds[req.hold_id].outcome is not None:
            return Refused(HoldAlreadyResolved)
        accept = self.plan(req)
        for account, amount in accept.legs:
            if self.no_negative[account] and self.balances[account] + amount < 0:
                return Refused(InsufficientFunds, (account, self.balances[account], -amount))
        return accept

    def postings(self, accept: Accept) -> tuple[Posting, ...]:
        """The postings ``accept`` writes now: running balances and versions follow the model."""
        return tuple(
            Posting(account, amount, self.balances[account] + amount, self.versions[account] + 1)
            for account, amount in accept.legs
        )

    def apply(self, accept: Accept, journal_id: int) -> None:
        assert journal_id not in self.journals, f"journal id {journal_id} handed out twice"
        for account, amount in accept.legs:
            self.balances[account] += amount
            self.versions[account] += 1
        self.journals[journal_id] = JournalRecord(accept.kind, accept.path, accept.legs)
        if accept.reverses is not None:
            self.reversed_by[accept.reverses] = journal_id

    def shortfalls(self, req: Request) -> list[tuple[str, int]]:
        accept = self.plan(req)
        return [
            (account, -(self.balances[account] + amount))
            for account, amount in accept.legs
            if self.no_negative[account] and self.balances[account] + amount < 0
        ]

    def open_holds(self) -> dict[int, HoldRecord]:
        return {i: h for i, h in self.holds.items() if h.outcome is None}


# --- databases ------------------------------------------------------------------------------


def fresh_database(template_url: str, tmp_path: Path) -> tuple[str, Callable[[], None]]:
    """A new, migrated, empty database and the function that removes it."""
    n = next(_databases)
    if ENGINE == "sqlite":
        folder = tmp_path / f"machine-{n}"
        folder.mkdir()
        path = folder / "mall.db"
        shutil.copyfile(template_url.removeprefix("sqlite:///"), path)
        return f"sqlite:///{path}", lambda: shutil.rmtree(folder, ignore_errors=True)
    name = f"mall_model_{os.getpid()}_{n}"
    template = urlsplit(template_url).path.lstrip("/")
    pg_admin(ENGINE_URL, f"CREATE DATABASE {name} TEMPLATE {template}")
    return with_database(ENGINE_URL, name), lambda: pg_admin(
        ENGINE_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )


# --- the state machine ----------------------------------------------------------------------

#: What a ``hold`` step does; the wrong capture is rarer than the rest.
HOLD_STEPS = ("place", "capture all", "capture part", "release", "lapse") * 2 + ("capture wrong",)

amounts = st.integers(min_value=1, max_value=40)
residents = st.sampled_from(RESIDENTS)
zones = st.sampled_from(ZONES)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self, template_url: str, tmp_path: Path) -> None:
        super().__init__()
        self.url, self.remove_database = fresh_database(template_url, tmp_path)
        self.loop = asyncio.new_event_loop()
        options = {"min_size": 1, "max_size": 1} if ENGINE == "postgres" else {}
        self.db: Database = open_database(self.url, **options)
        try:
            self.book = self.run(self._open_book())
        except BaseException:
            self.teardown()
            raise
        accounts = {
            points.MINT: False,
            points.BUDGET: True,
            points.EXPIRED: False,
            HOLDS_ACCOUNT: True,
            OUTLET: False,
            **dict.fromkeys(WALLETS, True),
        }
        self.model = Model(
            balances=dict.fromkeys(accounts, 0),
            versions=dict.fromkeys(accounts, 0),
            no_negative=accounts,
        )
        self.keys = itertools.count()

    async def _open_book(self) -> int:
        async with self.db.transaction() as conn:
            book = await points.open_community_book(conn, "model", "模型社区")
            await ledger.open_account(conn, book, OUTLET, no_negative=False)
            for account in WALLETS:
                await ledger.open_account(conn, book, account, no_negative=True)
            return book

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        try:
            self.run(self.db.close())
        finally:
            self.loop.close()
            self.remove_database()

    def fresh_key(self) -> str:
        return f"model:{next(self.keys)}"

    # -- submitting a request and checking its outcome against the model --

    async def _attempt(self, req: Request, key: str) -> Journal | Hold | LedgerError:
        """Run the request and commit, also when it is refused: a refusal must write nothing."""
        async with self.db.transaction() as conn:
            try:
                return await execute(conn, self.book, req, key)
            except LedgerError as exc:
                return exc

    async def _journal_under(self, key: str) -> Journal | None:
        async with self.db.transaction() as conn:
            return await ledger.find_journal(conn, self.book, key)

    def submit(self, req: Request, key: str) -> Refused | Replay | Accept:
        model = self.model
        expected = model.predict(req, key)
        postings = model.postings(expected) if isinstance(expected, Accept) else ()
        result = self.run(self._attempt(req, key))

        if isinstance(expected, Refused):
            event(f"refused: {type(req).__name__} {expected.error.__name__}")
            assert type(result) is expected.error, (
                f"{req!r} under {key!r}: expected {expected}, got {result!r}"
            )
            if expected.shortfall is not None:
                assert isinstance(result, InsufficientFunds)
                assert (result.account, result.balance, result.amount) == expected.shortfall
            found = self.run(self._journal_under(key))
            if key in model.keys:  # the key still names its first journal, unchanged
                first = model.keys[key].result
                first_journal = first.journal if isinstance(first, Hold) else first
                assert found == first_journal
            else:  # the refused key stays free
                assert found is None, f"refused {req!r} left journal {found!r} under {key!r}"
                if expected.error is InsufficientFunds:
                    model.refused[key] = req
            return expected

        assert not isinstance(result, LedgerError), (
            f"{req!r} under {key!r}: expected {expected}, got {result!r}"
        )

        if isinstance(expected, Replay):
            event(f"replayed: {type(req).__name__}")
            first = model.keys[key].result
            if isinstance(first, Hold):  # place_hold answers with the hold, not the journal
                assert isinstance(result, Hold)
                assert result.id == first.id
                assert result.journal == first.journal
                assert result.outcome == model.holds[first.id].outcome
            else:
                assert isinstance(result, Journal)
                assert result.replayed is True
                assert result == first
            return expected

        partly = isinstance(req, Capture) and len(expected.legs) == 3
        event(f"accepted: {type(req).__name__}{' part' if partly else ''}")
        journal = result.journal if isinstance(result, Hold) else result
        assert isinstance(journal, Journal)
        assert journal.replayed is False
        assert journal.book_id == self.book
        assert (journal.kind, journal.path, journal.memo, journal.reverses) == (
            expected.kind,
            expected.path,
            expected.memo,
            expected.reverses,
        )
        assert journal.postings == postings, f"{req!r}: {journal.postings} != {postings}"
        model.apply(expected, journal.id)
        if isinstance(req, PlaceHold):
            assert isinstance(result, Hold)
            assert result.id not in model.holds
            assert (result.account, result.amount, result.outcome) == (
                points.wallet(req.resident),
                req.amount,
                None,
            )
            assert result.expires_at == req.expires_at
            model.holds[result.id] = HoldRecord(
                points.wallet(req.resident), req.amount, req.expires_at, journal.id
            )
        elif isinstance(req, Capture | Release):
            model.holds[req.hold_id].outcome = (
                "captured" if isinstance(req, Capture) else "released"
            )
        model.keys[key] = KeyRecord(req, model.identity(req), result)
        model.refused.pop(key, None)
        return expected

    def top_up(self, req: Request) -> None:
        """Award (and grant) points until ``req`` no longer lacks any."""
        for account, missing in self.model.shortfalls(req):
            if account == points.BUDGET:
                self.submit(Grant(missing), self.fresh_key())
            elif account in WALLETS:
                budget = self.model.balances[points.BUDGET]
                if budget < missing:
                    self.submit(Grant(missing - budget), self.fresh_key())
                resident = WALLETS.index(account) + 1
                self.submit(Award("timely_help", resident, missing), self.fresh_key())
            else:
                raise AssertionError(f"cannot top up {account}")
        assert not self.model.shortfalls(req)

    # -- rules --

    @initialize(amount=st.integers(min_value=100, max_value=1000))
    def first_grant(self, amount: int) -> None:
        self.submit(Grant(amount), self.fresh_key())

    @initialize(
        paths=st.lists(st.sampled_from(points.PATHS), min_size=3, max_size=3),
        amounts=st.lists(st.integers(min_value=0, max_value=40), min_size=3, max_size=3),
    )
    def first_awards(self, paths: list[str], amounts: list[int]) -> None:
        """Most residents start with some points, so holds and redemptions have work to do."""
        for resident, path, amount in zip(RESIDENTS, paths, amounts, strict=True):
            if amount:
                self.submit(Award(path, resident, amount), self.fresh_key())

    @rule(amount=st.integers(min_value=1, max_value=500))
    def grant(self, amount: int) -> None:
        self.submit(Grant(amount), self.fresh_key())

    @rule(path=st.sampled_from(points.PATHS), resident=residents, amount=amounts)
    def award(self, path: str, resident: int, amount: int) -> None:
        self.submit(Award(path, resident, amount), self.fresh_key())

    def _spendable(self, data: st.DataObject, resident: int) -> int:
        """An amount the wallet can pay (``overspend`` tries the others); an empty wallet first
        earns some points."""
        if not self.model.balances[points.wallet(resident)]:
            self.top_up(Redeem(resident, data.draw(st.integers(1, 40), label="earned")))
        balance = self.model.balances[points.wallet(resident)]
        return data.draw(st.integers(min_value=1, max_value=balance), label="amount")

    @rule(data=st.data(), resident=residents)
    def redeem(self, data: st.DataObject, resident: int) -> None:
        self.submit(Redeem(resident, self._spendable(data, resident)), self.fresh_key())

    @rule(resident=residents, extra=st.integers(min_value=1, max_value=20), hold=st.booleans())
    def overspend(self, resident: int, extra: int, hold: bool) -> None:
        """Spending (or reserving) more than the wallet has is refused and writes nothing."""
        amount = self.model.balances[points.wallet(resident)] + extra
        req: Request = (
            PlaceHold(resident, amount, self.model.clock + timedelta(hours=1))
            if hold
            else Redeem(resident, amount)
        )
        outcome = self.submit(req, self.fresh_key())
        assert outcome == Refused(
            InsufficientFunds, (points.wallet(resident), amount - extra, amount)
        )

    @precondition(lambda self: self.model.journals)
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        """Reverse any journal: awards, grants and redemptions once; the rest never."""
        journal_id = data.draw(st.sampled_from(sorted(self.model.journals)), label="journal")
        self.submit(Reverse(journal_id), self.fresh_key())

    @precondition(lambda self: self.model.journals)
    @rule(data=st.data())
    def spend_then_reverse_award(self, data: st.DataObject) -> None:
        """Reversing an award whose points were spent would take the wallet below zero."""
        awards = [
            i
            for i, j in self.model.journals.items()
            if j.kind == "award" and i not in self.model.reversed_by
        ]
        if not awards:
            return
        journal_id = data.draw(st.sampled_from(awards), label="award")
        account, amount = self.model.journals[journal_id].legs[1]
        balance = self.model.balances[account]
        if balance:
            spend = data.draw(
                st.integers(min_value=max(1, balance - amount + 1), max_value=balance),
                label="spend",
            )
            self.submit(Redeem(WALLETS.index(account) + 1, spend), self.fresh_key())
        self.submit(Reverse(journal_id), self.fresh_key())

    @rule(
        data=st.data(),
        how=st.sampled_from(HOLD_STEPS),
        zone=zones,
    )
    def hold(self, data: st.DataObject, how: str, zone: timezone) -> None:
        """One step in the life of holds: place one; capture all of one (amount None or
        explicit), part of one or a wrong amount; release one; or let the due ones lapse.
        Resolving a hold already resolved is refused. With nothing to act on, place one."""
        if how == "place" or not self.model.holds:
            self.place_hold(data, zone)
        elif how == "lapse":
            if self.model.open_holds():
                self.lapse(data, zone)
            else:
                self.place_hold(data, zone)
        elif how == "release":
            self.submit(Release(self._pick_hold(data)), self.fresh_key())
        else:
            self.capture(data, how)

    def place_hold(self, data: st.DataObject, zone: timezone) -> None:
        """Reserve points until a deadline after the model's clock, written in some zone."""
        resident = data.draw(residents, label="resident")
        amount = self._spendable(data, resident)
        after = data.draw(st.integers(min_value=1, max_value=2 * 3600 * 10**6), label="after µs")
        expires_at = (self.model.clock + timedelta(microseconds=after)).astimezone(zone)
        self.submit(PlaceHold(resident, amount, expires_at), self.fresh_key())

    def _pick_hold(self, data: st.DataObject) -> int:
        """Mostly an open hold, sometimes any (then perhaps one already resolved)."""
        open_ids = sorted(self.model.open_holds())
        pool = (
            open_ids
            if open_ids and data.draw(st.integers(0, 4), label="open?")  # type: ignore[arg-type]  # mypy infers the draw from open_ids, the left of "and"
            else sorted(self.model.holds)
        )
        return data.draw(st.sampled_from(pool), label="hold")

    def capture(self, data: st.DataObject, how: str) -> None:
        hold_id = self._pick_hold(data)
        full = self.model.holds[hold_id].amount
        amount: int | None
        if how == "capture part" and full > 1:
            amount = data.draw(st.integers(min_value=1, max_value=full - 1), label="part")
        elif how == "capture wrong":
            amount = data.draw(st.sampled_from([0, -1, full + 1]), label="wrong amount")
        else:
            amount = data.draw(st.sampled_from([None, full]), label="all")
        self.submit(Capture(hold_id, amount), self.fresh_key())

    def lapse(self, data: st.DataObject, zone: timezone) -> None:
        """Lapse at a later moment: at an open hold's deadline, just before one, or any time."""
        model = self.model
        deadlines = sorted(
            h.expires_at for h in model.open_holds().values() if h.expires_at > model.clock
        )
        how = data.draw(st.sampled_from(["deadline", "just before", "any"]), label="when")
        if deadlines and how != "any":
            at = data.draw(st.sampled_from(deadlines), label="deadline")
            if how == "just before":
                at -= timedelta(microseconds=1)
            event("lapse at a deadline" if how == "deadline" else "lapse just before a deadline")
        else:
            advance = data.draw(st.integers(0, 3600 * 10**6), label="advance")
            at = model.clock + timedelta(microseconds=advance)
        at = at.astimezone(zone)
        model.clock = max(model.clock, at)
        due = sorted(i for i, h in model.open_holds().items() if h.expires_at <= at)
        expected = {i: model.give_back(i, "lapse", "lapsed") for i in due}

        async def go() -> tuple[list[Journal], list[Hold]]:
            async with self.db.transaction() as conn:
                lapsed = await ledger.lapse_holds(conn, at=at)
                return lapsed, [await ledger.get_hold(conn, i) for i in due]

        lapsed, holds = self.run(go())
        event(f"lapsed {len(lapsed)}")
        assert len(lapsed) == len(due), (
            f"at {at}: lapse journals {[j.postings for j in lapsed]}, expected holds {due} to lapse"
        )
        for i, journal, hold in zip(due, lapsed, holds, strict=True):  # in hold id order
            assert (journal.kind, journal.memo, journal.replayed) == ("lapse", "lapsed", False)
            assert journal.postings == model.postings(expected[i]), f"lapse of hold {i}"
            model.apply(expected[i], journal.id)
            assert hold.outcome == "lapsed"
            model.holds[i].outcome = "lapsed"

    @precondition(lambda self: self.model.keys)
    @rule(data=st.data(), same=st.booleans(), amount=amounts)
    def retry(self, data: st.DataObject, same: bool, amount: int) -> None:
        """A request again under a used key: the same one, or another one."""
        key = data.draw(st.sampled_from(sorted(self.model.keys)), label="key")
        if same:
            self.retry_same(data, key)
        else:
            self.retry_different(data, key, amount)

    def retry_same(self, data: st.DataObject, key: str) -> None:
        """The same request under a used key replays its journal and writes nothing."""
        req = self.model.keys[key].request
        if isinstance(req, Capture) and data.draw(st.booleans(), label="other spelling"):
            full = self.model.holds[req.hold_id].amount
            req = Capture(
                req.hold_id,
                full if req.amount is None else None if req.amount == full else req.amount,
            )
        outcome = self.submit(req, key)
        assert outcome == Replay(key)

    def retry_different(self, data: st.DataObject, key: str, amount: int) -> None:
        """Another request under a used key is refused with IdempotencyKeyReused, nothing written."""
        model = self.model
        reversible = [i for i, j in model.journals.items() if j.kind in REVERSIBLE]
        choices: list[Request] = [
            Grant(amount),
            Award(data.draw(st.sampled_from(points.PATHS), label="path"), 1, amount),
            Redeem(2, amount),
            PlaceHold(3, amount, model.clock + timedelta(minutes=amount)),
        ]
        choices += [Reverse(i) for i in reversible[:3]]
        choices += [Release(i) for i in sorted(model.holds)[:2]]
        choices += [Capture(i, 1) for i in sorted(model.holds)[:2]]
        others = [c for c in choices if model.identity(c) != model.keys[key].identity]
        req = data.draw(st.sampled_from(others), label="other request")
        outcome = self.submit(req, key)
        assert outcome == Refused(IdempotencyKeyReused)

    @precondition(lambda self: self.model.refused)
    @rule(data=st.data())
    def retry_refused(self, data: st.DataObject) -> None:
        """A key refused for want of points stays free: once the points are there, it succeeds."""
        model = self.model
        key = data.draw(st.sampled_from(sorted(model.refused)), label="refused key")
        req = model.refused[key]
        if isinstance(req, Reverse) and req.journal_id in model.reversed_by:
            req = Grant(1)  # reversed under another key meanwhile: the key is free for anything
        self.top_up(req)
        outcome = self.submit(req, key)
        assert isinstance(outcome, Accept), outcome
        assert key in model.keys and key not in model.refused

    # -- invariants --

    async def _observe(self) -> dict[str, Any]:
        async with self.db.transaction() as conn:
            seen: dict[str, Any] = {}
            seen["balances"] = {
                code: await ledger.get_balance(conn, self.book, code)
                for code in self.model.balances
            }
            seen["accounts"] = {
                r["code"]: int(r["balance"])
                for r in await conn.fetch(
                    "SELECT code, balance FROM ledger_account WHERE book = ?", self.book
                )
            }
            seen["journals"] = int(await conn.fetchval("SELECT COUNT(*) FROM ledger_journal"))
            seen["open_holds"] = {
                h.id: (h.account, h.amount)
                for account in WALLETS
                for h in await ledger.open_holds(conn, self.book, account)
            }
            seen["report"] = await ledger.verify_ledger(conn)
            return seen

    @invariant()
    def database_matches_model(self) -> None:
        model = self.model
        seen = self.run(self._observe())
        balances = {code: (b.balance, b.version) for code, b in seen["balances"].items()}
        expected = {c: (model.balances[c], model.versions[c]) for c in model.balances}
        assert balances == expected, f"(balance, version) {balances} != model {expected}"
        accounts = seen["accounts"]
        assert accounts == model.balances, f"book {accounts} != model {model.balances}"
        assert sum(accounts.values()) == 0, f"the book sums to {sum(accounts.values())}"
        for code, no_negative in model.no_negative.items():
            if no_negative:  # every wallet, the budget and holds
                assert accounts[code] >= 0, f"{code} at {accounts[code]}"
        assert seen["journals"] == len(model.journals), (
            f"{seen['journals']} journals, model {len(model.journals)}"
        )
        open_holds = model.open_holds()
        expected_holds = {i: (h.account, h.amount) for i, h in open_holds.items()}
        assert seen["open_holds"] == expected_holds, f"open holds {seen['open_holds']}"
        assert accounts[HOLDS_ACCOUNT] == sum(h.amount for h in open_holds.values()), (
            f"holds at {accounts[HOLDS_ACCOUNT]}, open holds {expected_holds}"
        )
        report = seen["report"]
        assert report.ok, [str(p) for p in report.problems]
        assert report.journals == len(model.journals)


def test_ledger_agrees_with_its_model_and_keeps_every_invariant_under_any_sequence_of_operations(
    template_url: str, tmp_path: Path
) -> None:
    run_state_machine_as_test(
        lambda: LedgerMachine(template_url, tmp_path),  # type: ignore[arg-type]  # Hypothesis takes any factory of a machine; its stub asks for the class
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
