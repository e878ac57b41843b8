"""The counter's visits (兑换台接待): what a scan at the counter found, kept on the server under a
random token, so that the page after a scan is a plain GET (post/redirect/get) that reload, Back
and a second tab open again, and no pay code or card ever sits in a URL or the history.

A visit belongs to the user who scanned, at one outlet, for ``KEEP``: anyone else's token is
``not_found``. It holds the printed card scanned (its PIN awaited, or right), the pay code that
stands for the resident (the phone's own, or a fresh one the counter made for the card), and
the last refusal with the quantities chosen. The codes keep their own expiry and single use;
a visit never makes a code live longer. Never decides what a code may pay for: ``lookup`` and
``checkout`` do.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import msgspec

from ledger import Row
from mall import access
from mall import query as q
from mall import tables as t
from mall.access import Principal
from mall.counter import lookup
from mall.counter.basket import COUNTER_ROLES, counter_outlet
from mall.db import Database
from mall.errors import N_, CodeInvalid, NotFound
from mall.people import code_lookup, codes
from mall.settings import get_settings

KEEP = timedelta(hours=8)


class Visit(msgspec.Struct, frozen=True, kw_only=True):
    """A visit as its page needs it: the card whose PIN is awaited (or was right), the pay code
    that stands for the resident once known, the last refusal and the quantities chosen."""

    token: str
    outlet_id: int
    card_code: str | None
    pay_code: str | None
    problem: str
    chosen: dict[str, int]
    order_id: int | None = None
    """The order the visit's pay code paid for at its outlet, once it has."""


def now() -> datetime:
    return datetime.now(UTC)


async def start(db: Database, p: Principal, outlet_id: int) -> str:
    """A new, empty visit at the outlet the user serves at; its token. Visits older than
    ``KEEP`` go first."""
    user = access.user(p, COUNTER_ROLES)
    if user.user_id is None:
        raise NotFound()
    token = secrets.token_urlsafe(18)
    async with db.transaction() as conn:
        outlet = await counter_outlet(conn, user, outlet_id)
        v = t.CounterVisit
        await q.execute(conn, v.delete().where(v.created_at < now() - KEEP))
        await q.execute(
            conn,
            v.insert(
                v(
                    token=token,
                    community=outlet["community_id"],
                    outlet=outlet_id,
                    created_by=user.user_id,
                    created_at=now(),
                )
            ),
        )
    return token


async def _row(db: Database, p: Principal, token: str) -> Row:
    user = access.user(p, COUNTER_ROLES)
    v = t.CounterVisit
    async with db.connection() as conn:
        row = await q.fetchrow(
            conn,
            v.select(
                v.id,
                v.outlet,
                v.problem,
                v.chosen,
                v.card.ident.as_alias("card_ident"),
                v.pay.ident.as_alias("pay_ident"),
            )
            .where(
                (v.token == (token or "")[:64])
                & (v.created_by == user.user_id)
                & (v.created_at >= now() - KEEP)
            )
            .first(),
        )
    if row is None:
        raise NotFound(N_("This counter page has expired. Please scan again."))
    return row


async def get(db: Database, p: Principal, token: str) -> Visit:
    """The user's own visit; anyone else's, or one older than ``KEEP``, is ``not_found``."""
    row = await _row(db, p, token)
    secret = get_settings().secret_key
    card, pay = row["card_ident"], row["pay_ident"]
    order_id = None
    if pay:
        o = t.Order
        async with db.connection() as conn:
            order_id = await q.fetchval(
                conn,
                o.select(o.id).where((o.code_ident == pay) & (o.outlet == row["outlet"])),
            )
    return Visit(
        token=token,
        outlet_id=int(row["outlet"]),
        card_code=codes.text_code_of(secret, codes.CARD, card) if card else None,
        pay_code=codes.pay_code_of(secret, pay) if pay else None,
        problem=row["problem"],
        chosen=msgspec.json.decode(row["chosen"], type=dict[str, int]) if row["chosen"] else {},
        order_id=None if order_id is None else int(order_id),
    )


async def scan(
    db: Database, p: Principal, token: str, code: str, pin: str = "", *, ip: str = ""
) -> None:
    """What was scanned or typed, on the visit: a pay code, or a printed card, whose PIN may come
    with it or later (``enter_pin``). A card or pay code that landed in the PIN box (the focus
    had moved there) is taken as the scan, never as a PIN. A refusal raises, and leaves the
    visit holding the card scanned, so that its PIN can be typed again."""
    if codes.shape(pin):
        code, pin = pin, ""
    row = await _row(db, p, token)
    await _set(db, int(row["id"]), card=None, pay=None)  # a new scan replaces the one before
    parsed = codes.parse(get_settings().secret_key, code)
    if parsed.kind == codes.CARD:
        card_id = await code_lookup.card_at_counter(db, p, code)
        await _set(db, int(row["id"]), card=card_id)
        if pin:
            await _with_pin(db, p, int(row["id"]), int(row["outlet"]), code, pin, ip)
    elif parsed.kind == codes.PAY:
        await lookup.lookup(db, p, int(row["outlet"]), code, ip=ip)
        await _set(db, int(row["id"]), pay=await _code_id(db, parsed.ident))
    else:
        raise CodeInvalid()


async def enter_pin(db: Database, p: Principal, token: str, pin: str, *, ip: str = "") -> None:
    """The PIN of the card the visit holds (or, if a code landed in the PIN box, a new scan)."""
    if codes.shape(pin):
        await scan(db, p, token, pin, ip=ip)
        return
    visit = await get(db, p, token)
    if visit.card_code is None:
        raise CodeInvalid()
    row = await _row(db, p, token)
    await _with_pin(db, p, int(row["id"]), visit.outlet_id, visit.card_code, pin, ip)


async def note(
    db: Database, p: Principal, token: str, problem: str, chosen: dict[str, int] | None = None
) -> None:
    """The refusal to show on the visit's page (in the reader's words), with what was chosen."""
    row = await _row(db, p, token)
    v = t.CounterVisit
    async with db.transaction() as conn:
        await q.execute(
            conn,
            v.update(
                {
                    v.problem: problem[:1000],
                    v.chosen: msgspec.json.encode(chosen).decode() if chosen else "",
                }
            ).where(v.id == row["id"]),
        )


async def _with_pin(
    db: Database, p: Principal, visit_id: int, outlet_id: int, card_code: str, pin: str, ip: str
) -> None:
    """The card's PIN checked (``lookup`` counts a wrong one); the pay code it made stands for
    the card during this visit."""
    found = await lookup.lookup(db, p, outlet_id, card_code, pin, ip=ip)
    ident = codes.parse(get_settings().secret_key, found.counter_code).ident
    await _set(db, visit_id, pay=await _code_id(db, ident))


async def _code_id(db: Database, ident: str) -> int:
    c = t.Code
    async with db.connection() as conn:
        found = await q.fetchval(conn, c.select(c.id).where(c.ident == ident))
    return int(found)


_KEEP = object()


async def _set(db: Database, visit_id: int, *, card: object = _KEEP, pay: object = _KEEP) -> None:
    """A new scan starts the visit over: what it found, no refusal, nothing chosen."""
    v = t.CounterVisit
    values: dict[object, object] = {v.problem: "", v.chosen: ""}
    if card is not _KEEP:
        values[v.card] = card
    if pay is not _KEEP:
        values[v.pay] = pay
    async with db.transaction() as conn:
        await q.execute(conn, v.update(values).where(v.id == visit_id))  # type: ignore[arg-type]
