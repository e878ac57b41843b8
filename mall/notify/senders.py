"""The one door a message could leave the server by (an SMS, a WeChat template message): a
``Sender`` with ``send(message)``. Nothing leaves unless an operator configures one
(``MALL_MESSAGE_SENDER=package.module:factory``, docs/deploy.md); the default sends nothing and
the messages stay in the residents' inboxes.

Housekeeping hands each new message to the configured sender once: it claims the message
(``sent_at``) in the same statement that finds it, so two runs at once never send one twice, and a
sender that fails loses that message to the outside world (the inbox still has it).
"""

from __future__ import annotations

import importlib
import logging
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import msgspec

from mall import query as q
from mall import tables as t
from mall.db import Database
from mall.notify.inbox import now

log = logging.getLogger("mall.notify.senders")

#: messages older than this when a sender is first configured are never sent
FRESH = timedelta(days=2)
BATCH = 200


class Outgoing(msgspec.Struct, frozen=True, kw_only=True):
    """A message to pass on. A template sender maps ``kind`` (``mall.notify.kinds``) to its
    own template and fills it from ``params``; for an ``announcement``, ``title`` and ``body``
    are staff's words, to send as they are (escaped as the channel needs)."""

    id: int
    resident_id: int
    phone: str | None
    kind: str
    title: str
    body: str
    params: dict[str, Any]
    at: datetime


@runtime_checkable
class Sender(Protocol):
    async def send(self, message: Outgoing) -> None:
        """Pass one message on; raising loses it for this channel only."""


class NoSender:
    """The default: nothing leaves the server."""

    async def send(self, message: Outgoing) -> None:
        return None


def load(spec: str | None) -> Sender:
    """The sender named by ``MALL_MESSAGE_SENDER`` (``package.module:factory``, a callable
    with no arguments that returns a ``Sender``), or ``NoSender``."""
    if not spec:
        return NoSender()
    module, _, name = spec.partition(":")
    made = getattr(importlib.import_module(module), name or "sender")()
    if not isinstance(made, Sender):
        raise TypeError(f"{spec} did not make a sender (an object with async send(message))")
    return made


async def deliver(db: Database, sender: Sender, at: datetime | None = None) -> int:
    """Hand every message not yet sent (of the last ``FRESH``) to ``sender``, once each.
    Returns how many were handed on; with ``NoSender``, none (nothing is claimed)."""
    if isinstance(sender, NoSender):
        return 0
    at = at or now()
    m = t.Message
    handed = 0
    while True:
        async with db.transaction() as conn:
            waiting = await q.fetch(
                conn,
                m.select(m.id)
                .where(m.sent_at.is_null() & (m.created_at >= at - FRESH))
                .order_by(m.id)
                .limit(BATCH),
            )
            if not waiting:
                return handed
            claimed = await q.fetch(
                conn,
                m.update({m.sent_at: at})
                .where(m.id.is_in([r["id"] for r in waiting]) & m.sent_at.is_null())
                .returning(m.id),
            )
            rows = await q.fetch(
                conn,
                m.select(
                    m.id,
                    m.resident,
                    m.resident.phone.as_alias("phone"),
                    m.kind,
                    m.title,
                    m.body,
                    m.params,
                    m.created_at,
                ).where(m.id.is_in([r["id"] for r in claimed] or [0])),
            )
        for row in rows:
            message = Outgoing(
                id=int(row["id"]),
                resident_id=int(row["resident"]),
                phone=row["phone"],
                kind=row["kind"],
                title=row["title"],
                body=row["body"],
                params=msgspec.json.decode(row["params"] or "{}"),
                at=row["created_at"],
            )
            try:
                await sender.send(message)
                handed += 1
            except Exception:  # one failed message must not stop the others
                log.exception("the message sender failed on message %s", message.id)
