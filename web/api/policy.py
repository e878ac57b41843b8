"""A community's trust policy (信任规则) in the JSON API: read by its staff, changed by
administrators. The rules are in ``mall.org.policy``."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

import msgspec
from litestar import Controller, Request, get, put
from litestar.datastructures import CacheControlHeader
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler

from mall.org import policy
from web.api.callers import STAFF, allow
from web.api.fields import Slug
from web.deps import Caller, Db
from web.session import client_ip


class Policy(msgspec.Struct):
    approval_threshold: int
    """Points one staff member may issue to one resident in one day (China time) before a
    second staff member approves (awards, settlements and submission rewards together)."""
    activity_max_points: int
    """The most an activity may pay each attendee."""
    objection_days: int
    """Days a public notice entry stays open to objections."""
    expiry: Literal["never", "year_end", "months"]
    """When points expire: `never`; `year_end`: points earned in a calendar year (China time)
    expire at its end; `months`: `expiry_months` months after the day they were earned."""
    expiry_months: int
    """Months points stay valid when `expiry` is `months`."""
    star_hours: list[int]
    """Hours of volunteer service (in all) for one to five stars (星级志愿者), rising; by
    default the national scheme's 100, 300, 600, 1000, 1500."""


class PolicyChange(msgspec.Struct, forbid_unknown_fields=True):
    approval_threshold: int | msgspec.UnsetType = msgspec.UNSET
    activity_max_points: int | msgspec.UnsetType = msgspec.UNSET
    objection_days: int | msgspec.UnsetType = msgspec.UNSET
    expiry: str | msgspec.UnsetType = msgspec.UNSET
    expiry_months: int | msgspec.UnsetType = msgspec.UNSET
    star_hours: list[int] | msgspec.UnsetType = msgspec.UNSET


T = TypeVar("T")


def _given(value: T | msgspec.UnsetType) -> T | None:
    return None if isinstance(value, msgspec.UnsetType) else value


class PolicyController(Controller):
    tags = ["organisation"]
    cache_control = CacheControlHeader(no_store=True)

    @get(
        "/communities/{slug:str}/policy",
        dependencies=allow(*STAFF),
        summary="A community's trust policy",
        description="Staff of the community and administrators.",
    )
    async def show(self, request: Request[Any, Any, Any], db: Db, p: Caller, slug: Slug) -> Policy:
        found = await policy.get_policy(db, p, slug)
        return msgspec.convert(found, Policy, from_attributes=True)

    @put(
        "/communities/{slug:str}/policy",
        dependencies=allow("admin"),
        summary="Change a community's trust policy",
        description=(
            "Street administrators only. Fields left out keep their values. "
            "`approval_threshold` 0 to 1,000,000, `activity_max_points` 1 to 10,000, "
            "`objection_days` 1 to 90, `expiry` `never`, `year_end` or `months`, "
            "`expiry_months` 1 to 120, `star_hours` five whole numbers of hours from 1 to "
            "100,000, each above the last; anything else is `validation_error` and nothing changes."
        ),
    )
    async def change(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        data: JSONBody[PolicyChange],
    ) -> Policy:
        found = await policy.set_policy(
            db,
            p,
            slug,
            approval_threshold=_given(data.approval_threshold),
            activity_max_points=_given(data.activity_max_points),
            objection_days=_given(data.objection_days),
            expiry=_given(data.expiry),
            expiry_months=_given(data.expiry_months),
            star_hours=_given(data.star_hours),
            ip=client_ip(request),
        )
        return msgspec.convert(found, Policy, from_attributes=True)


ROUTES: list[ControllerRouterHandler] = [PolicyController]
