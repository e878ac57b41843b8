"""``POST /activate``: a resident's phone redeems its one-time activation code for a token."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, post
from litestar.params import JSONBody

from mall.people import credentials
from web.api.fields import Code
from web.deps import Db
from web.session import client_ip


class Activate(msgspec.Struct):
    code: Code


class Activated(msgspec.Struct):
    token: str
    resident_id: int


class ActivationController(Controller):
    tags = ["residents"]

    @post(
        "/activate",
        status_code=200,
        security=[{}],  # no token needed: overrides the document's bearer requirement
        summary="Bind a phone with an activation code",
        description=(
            "No authentication. Returns the resident's long-lived token. A used code is "
            "`code_used`, an expired one `code_expired`, anything else `code_invalid`; too "
            "many attempts from one address are `rate_limited`."
        ),
    )
    async def activate(
        self, request: Request[Any, Any, Any], db: Db, data: JSONBody[Activate]
    ) -> Activated:
        token, resident_id = await credentials.activate(db, data.code, ip=client_ip(request))
        return Activated(token=token, resident_id=resident_id)
