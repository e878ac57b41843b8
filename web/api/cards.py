"""Printed cards (积分卡) for residents without a smartphone: issuing one, and the second staff
member's approval that a card issued while the resident holds points waits for."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Controller, Request, post
from litestar.params import JSONBody

from mall.people import cards, credentials
from web.api.callers import STAFF, allow
from web.api.fields import Code, Id
from web.deps import Caller, Db
from web.session import client_ip


class NewCard(msgspec.Struct):
    pin: Code
    """4 to 6 digits chosen by the resident, not an easy sequence."""


class Card(msgspec.Struct):
    card_code: str
    status: Literal["active", "pending_approval"]
    """`pending_approval`: the card pays for nothing until another staff member approves it."""


class CardApproved(msgspec.Struct):
    resident_id: int
    status: Literal["active"]


class CardController(Controller):
    tags = ["residents"]

    @post(
        "/residents/{resident_id:int}/card",
        dependencies=allow(*STAFF),
        summary="Issue a card",
        description=(
            "A printed card (QR code plus PIN) for a resident without a smartphone. A new "
            "card revokes the old one at once (and the pay codes the counter made for it). "
            "Issued while the resident holds points (a balance above 0), the card is "
            "`pending_approval`: it pays for nothing, and the counter (look-up, checkout, "
            "collecting a reservation) refuses it with `card_pending` (409), until a "
            "different staff member calls `POST /residents/{id}/card/approve`. Nobody issues "
            "a card for their own resident record (`self_dealing`); a closed record is "
            "`account_closed`. Audited, with who issued it."
        ),
    )
    async def issue_card(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        resident_id: Id,
        data: JSONBody[NewCard],
    ) -> Card:
        made = await credentials.issue_card(db, p, resident_id, data.pin, ip=client_ip(request))
        return Card(card_code=made.card_code, status=made.status)

    @post(
        "/residents/{resident_id:int}/card/approve",
        status_code=200,
        dependencies=allow(*STAFF),
        summary="Approve a card waiting for approval",
        description=(
            "Staff of the resident's community and administrators, other than the one who "
            "issued the card (`forbidden`), and never for their own resident record "
            "(`self_dealing`). From now on the card pays. No card waiting (none, or approved "
            "already, e.g. by a second approval at the same moment) is `already_exists` (409). "
            "Audited, with who approved it."
        ),
    )
    async def approve_card(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, resident_id: Id
    ) -> CardApproved:
        done = await cards.approve_card(db, p, resident_id, ip=client_ip(request))
        return CardApproved(resident_id=done.resident_id, status="active")
