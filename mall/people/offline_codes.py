"""Offline pay codes (离线付款码): a small batch of pay codes that a resident's phone fetches while
it is online, to show at the counter when it has no network.

Each is an ordinary signed pay code (``codes.new_pay_code``: the counter types or scans it as any
other) whose row (kind ``offline``) says the window it pays in (``valid_from`` to
``expires_at``, ``WINDOW`` long, one after another) and the phone session it was issued to. The
counter accepts it once, within its window, through the same payer path as a pay code
(``mall.counter.payer``). A new batch revokes the session's previous one, and the session's end
(signing out, a new activation, closing the record) revokes its codes, so a copied batch dies
with the phone it was made for. This module never decides what a code pays: the counter does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from mall import access
from mall.access import Principal, throttle
from mall.db import Database
from mall.errors import N_, Invalid
from mall.people import codes
from mall.people.auth import revoke_offline_codes
from mall.people.credentials import now
from mall.settings import get_settings

OFFLINE = "offline"
#: how long each code is shown on the phone, one after another
WINDOW = timedelta(minutes=3)
#: how many windows one batch covers (``WINDOW`` × ``BATCH`` = half an hour)
BATCH = 10
#: the counter's allowance for a phone's clock that runs fast or slow, on both ends of a window
SLACK = timedelta(seconds=60)
#: batches one resident may fetch in ``FETCH_WINDOW``
FETCH_LIMIT = 30
FETCH_WINDOW = timedelta(hours=1)


class OfflineCode(msgspec.Struct, frozen=True, kw_only=True):
    """One offline code: the phone shows it from ``show_from`` until ``show_until``; the counter
    accepts it once from ``SLACK`` before the first to ``SLACK`` after the second."""

    code: str
    show_from: datetime
    show_until: datetime


class OfflineBatch(msgspec.Struct, frozen=True, kw_only=True):
    """A batch of offline codes, in window order, and the server's clock when it was made (the
    phone corrects its own clock by it)."""

    resident_id: int
    server_time: datetime
    codes: list[OfflineCode]


async def issue_batch(db: Database, p: Principal) -> OfflineBatch:
    """A fresh batch for the signed-in resident's phone, revoking the phone's previous batch.

    The windows start now and follow each other; none outlasts the phone's session."""
    p = access.resident_self(p)
    if not p.session_id:
        raise Invalid(N_("Offline codes are only for a phone that was activated."))
    secret = get_settings().secret_key
    at = now()
    async with db.transaction() as conn:
        await throttle.hit(
            conn, f"offline:r{p.resident_id}", limit=FETCH_LIMIT, window=FETCH_WINDOW
        )
        ends = await conn.fetchval(
            "SELECT expires_at FROM mall_session WHERE id = ? AND resident = ? "
            "AND revoked_at IS NULL",
            p.session_id,
            p.resident_id,
        )
        if ends is None:
            raise Invalid(N_("Offline codes are only for a phone that was activated."))
        await revoke_offline_codes(conn, session_id=p.session_id)
        issued: list[OfflineCode] = []
        for n in range(BATCH):
            start = at + n * WINDOW
            if start + WINDOW > ends:
                break
            code, ident = codes.new_pay_code(secret)
            await conn.execute(
                "INSERT INTO mall_code (kind, ident, resident, created_at, valid_from, "
                "expires_at, failed_pins, session_id) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                OFFLINE,
                ident,
                p.resident_id,
                at,
                start - SLACK,
                start + WINDOW + SLACK,
                p.session_id,
            )
            issued.append(OfflineCode(code=code, show_from=start, show_until=start + WINDOW))
    return OfflineBatch(resident_id=p.resident_id, server_time=at, codes=issued)
