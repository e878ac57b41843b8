"""Who may call what: every endpoint of the API, with every kind of caller, against community A.

The table says, for each endpoint, the status each caller gets: street administrator, staff of
A, staff of B, volunteer of A, resident of A, resident of B, and nobody signed in. A refused
caller gets a problem document with the matching code, and no word of community A's data.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest

from mall.db import Database
from mall.earning import awards, checkin, openings, sheet, submissions
from mall.people import accounts, credentials, proxies, residents, users
from mall.reports import objections
from tests import support
from tests.api.helpers import Api
from tests.api.world import (
    A_NAME,
    ADMIN,
    BIG_RULE,
    PASSWORD,
    RULE,
    TARGET_NAME,
    TARGET_PHONE,
    A,
    World,
    new_token,
    recruitment_call,
    staff_of,
)
from tests.shop_fixtures import (
    scope_checkout,
    scope_order,
    scope_pay_code,
    scope_reservation,
    scope_reserve,
)

CALLERS = ("admin", "staff-a", "staff-b", "vol-a", "res-a", "res-b", "anon")
REFUSALS = {401: "unauthenticated", 403: "forbidden", 404: "not_found"}
#: What a refused caller must never see: community A's code and name, its staff member's name,
#: and the target resident's name, phone and passbook memos.
A_DATA = (A, A_NAME, "staff-a", TARGET_NAME, TARGET_PHONE, "帮扶困难户", "参加议事会")

Body = Callable[[Api, World, str], Any]


@dataclass(frozen=True)
class Row:
    method: str
    route: str
    expect: tuple[int, ...]
    """The status for each of ``CALLERS``, in order."""
    body: Body | None = None
    idempotent: bool = False
    ids: Callable[[Api, World, str], dict[str, Any]] | None = None
    """Path ids made afresh for each caller (an award to approve, a submission to decide)."""
    files: Callable[[Api, World, str], dict[str, Any]] | None = None
    """A multipart upload instead of a JSON body (a roster, opening balances)."""

    def __str__(self) -> str:
        return f"{self.method} {self.route}"


def sign_in(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"username": "staff-a", "password": PASSWORD}


def same_password(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"old_password": PASSWORD, "new_password": PASSWORD}


def community(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"slug": f"new-{caller}", "name": "新社区"}


def grid(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"code": f"grid-{caller}", "name": "新网格"}


def points(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"points": 1, "memo": "scope"}


def volunteer(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {
        "username": f"helper-{caller}",
        "password": PASSWORD,
        "role": "volunteer",
        "community": A,
    }


def no_outlets(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"outlets": []}  # vol-a keeps serving at every outlet of A, as the other rows expect


def vol_a(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"user_id": world.users["vol-a"]}


def resident(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"name": "新居民"}


def activation_code(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"code": api.run(credentials.issue_activation, ADMIN, world.target).code}


def pin(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"pin": "2580"}


def outlet(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"name": f"超市-{caller}", "kind": "supermarket"}


def donor(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"name": f"共建单位-{caller}", "kind": "unit"}


def item(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"sku": f"ITEM-{caller}", "name": "毛巾", "kind": "goods", "price_points": 8}


def stock(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"sku": "SOAP", "quantity": 1, "reason": "receipt"}


def new_activity(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {
        "title": f"招募令-{caller}",
        "path": "timely_help",
        "points": 5,
        "capacity": 3,
        "starts_at": "2026-12-01T09:00:00+08:00",
        "ends_at": "2026-12-01T11:00:00+08:00",
        "place": "活动室",
    }


def checkin_code(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"code": api.run(checkin.checkin_code, ADMIN, world.activities["activity-a"]).code}


def attendee_code(api: Api, world: World, caller: str) -> dict[str, Any]:
    """The pay code of a new resident of A: each caller checks in somebody else."""
    rid = api.run(residents.create_resident, ADMIN, A, "到场居民", None, None).id
    me = support.resident(rid, 0, A)
    return {"code": api.run(credentials.new_pay_code, me).code}


def rule(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"code": f"rule-{caller}", "name": "参加议事会", "path": "adding_to_good", "points": 5}


def award(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"community": A, "rule": RULE, "resident_ids": [world.target], "memo": "参加议事会"}


def reason(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"reason": "重复申报"}


def same_name(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"name": TARGET_NAME}  # the target stays as every other row expects


def fresh_resident(api: Api, world: World, caller: str) -> dict[str, Any]:
    """A resident of A made afresh for each caller, to close or merge."""
    made = api.run(residents.create_resident, ADMIN, A, f"新居民{next(FRESH)}", None, None)
    return {"resident_id": made.id}


def merge_into(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"into": fresh_resident(api, world, caller)["resident_id"], "reason": "重复登记"}


def submission(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"kind": "wish", "title": "想学用智能手机", "body": ""}


def decision(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"decision": "accept", "reason": "已受理"}


def deadlines(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"wish": 14}


FRESH = itertools.count()


def waiting_award(api: Api, world: World, caller: str) -> dict[str, Any]:
    """An award of A waiting for approval, made by ``staff-a2`` for each caller afresh."""
    maker = api.run(staff_of, world, "staff-a2")
    made = api.run(
        partial(awards.create_award, idempotency_key=f"scope-{caller}-{next(FRESH)}"),
        maker,
        A,
        BIG_RULE,
        [world.target],
        "调解纠纷",
    )
    return {"award_id": made.id}


def posted_award(api: Api, world: World, caller: str) -> dict[str, Any]:
    """A posted award of A (5 points to a fresh resident), made by ``staff-a2`` for each caller.

    A fresh resident each time keeps every award under the daily threshold of one issuer for one
    resident, so none of them waits for a second staff member's approval."""
    maker = api.run(staff_of, world, "staff-a2")
    awarded = api.run(residents.create_resident, ADMIN, A, f"获奖居民{next(FRESH)}", None, None)
    made = api.run(
        partial(awards.create_award, idempotency_key=f"scope-{caller}-{next(FRESH)}"),
        maker,
        A,
        RULE,
        [awarded.id],
        "参加议事会",
    )
    assert made.status == "posted", made
    return {"award_id": made.id}


def sheet_names(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"resident_ids": [world.target]}


def fresh_call(api: Api, world: World, caller: str) -> dict[str, Any]:
    """A recruitment call of A published afresh for each caller (to edit or cancel)."""
    return {"activity_id": api.run(recruitment_call, world.users["admin"])}


def cancellation(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"reason": "暴雨预警"}


def place_change(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"place": "5栋楼下"}


def fresh_checkin(api: Api, world: World, caller: str) -> dict[str, Any]:
    """A new resident of A checked in to a fresh call, for each caller to take back."""
    activity_id = api.run(recruitment_call, world.users["admin"])
    rid = api.run(residents.create_resident, ADMIN, A, "签错的居民", None, None).id
    api.run(sheet.record_attendance_by_name, ADMIN, activity_id, [rid])
    return {"activity_id": activity_id, "resident_id": rid}


#: caller → the fresh call whose attendee ``attendee_hours`` checked in (its body comes first)
_HOURS_CALL: dict[str, int] = {}


def attendee_hours(api: Api, world: World, caller: str) -> dict[str, Any]:
    """A fresh call of A with a new resident checked in, for each caller to correct the hours of."""
    made = fresh_checkin(api, world, caller)
    _HOURS_CALL[caller] = made["activity_id"]
    return {"resident_id": made["resident_id"], "hours": 2}


def hours_call(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"activity_id": _HOURS_CALL[caller]}


def same_policy(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"objection_days": 7}


def open_submission(api: Api, world: World, caller: str) -> dict[str, Any]:
    """A micro-wish of ``res-a``, filed afresh for each caller."""
    filer = support.resident(world.residents["res-a"], 0, A)
    made = api.run(submissions.file, filer, "wish", "想学用智能手机", "")
    return {"submission_id": made.id}


def resolved_submission(api: Api, world: World, caller: str) -> dict[str, Any]:
    """A submission of ``res-a``, filed and resolved afresh for each caller, to rate (past the
    daily limit on filing, which the other rows use up)."""

    async def forget_the_limit(db: Database) -> None:
        async with db.transaction() as conn:
            await conn.execute("DELETE FROM mall_throttle WHERE key = ?", f"submission:r{filer}")

    filer = world.residents["res-a"]
    api.run(forget_the_limit)
    ids = open_submission(api, world, caller)
    api.run(submissions.decide, ADMIN, ids["submission_id"], "resolve")
    return ids


def rating(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"stars": 5}


def announcement(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"title": f"通知-{caller}", "body": "scope"}


def fresh_volunteer(api: Api, world: World, caller: str) -> dict[str, Any]:
    """A volunteer of A made afresh for each caller, to switch off."""
    made = api.run(users.create_user_unchecked, f"helper{next(FRESH)}", PASSWORD, "volunteer", A)
    return {"user_id": made.id}


def switched_off_volunteer(api: Api, world: World, caller: str) -> dict[str, Any]:
    """A volunteer of A, made and switched off afresh for each caller, to switch on again."""
    made = fresh_volunteer(api, world, caller)
    api.run(accounts.deactivate, ADMIN, made["user_id"])
    return made


def no_own_record(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"resident_id": None}  # vol-a stays unlinked, as every other row expects


def waiting_card(api: Api, world: World, caller: str) -> dict[str, Any]:
    """A resident of A with points and a card issued by ``staff-a2``, waiting for approval."""
    made = fresh_resident(api, world, caller)
    api.run(award_points, world, made["resident_id"])
    issuer = api.run(staff_of, world, "staff-a2")
    card = api.run(credentials.issue_card, issuer, made["resident_id"], "2580")
    assert card.status == "pending_approval", card
    return made


async def award_points(db: Any, world: World, resident_id: int) -> None:
    from tests.api.world import award as give

    await give(db, A, resident_id, 5, f"scope-card-{resident_id}", "参加议事会")


async def entry_of(db: Any, award_id: int) -> int:
    """The notice entry (award line) of a one-resident award."""
    async with db.connection() as conn:
        return int(await conn.fetchval("SELECT id FROM mall_award_line WHERE award = ?", award_id))


async def res_a(db: Any, world: World) -> Any:
    async with db.connection() as conn:
        community_id = await conn.fetchval("SELECT id FROM mall_community WHERE slug = ?", A)
    return support.resident(world.residents["res-a"], community_id, A)


def fresh_entry(api: Api, world: World, caller: str) -> dict[str, Any]:
    """A notice entry of A: a posted award to a fresh resident, made afresh for each caller."""
    return {"entry_id": api.run(entry_of, posted_award(api, world, caller)["award_id"])}


def passbook_csv(api: Api, world: World, caller: str) -> dict[str, Any]:
    """Every passbook of A as CSV (it holds the target's name and memos)."""
    return {"name": "passbook.csv"}


def awards_xlsx(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"name": "awards.xlsx"}


def settlement_csv(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"name": "partner-settlement.csv"}


def open_objection(api: Api, world: World, caller: str) -> dict[str, Any]:
    """An objection of ``res-a`` to a fresh notice entry of A, filed afresh for each caller."""
    entry = fresh_entry(api, world, caller)["entry_id"]
    made = api.run(objections.file, api.run(res_a, world), entry, "不是本人参加")
    return {"objection_id": made.id}


def objection(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"reason": "那天没有开会"}


def dismissal(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"decision": "dismiss", "reply": "已核实签到表"}


def roster(api: Api, world: World, caller: str) -> dict[str, Any]:
    """A one-row roster of a new resident without a phone, made afresh for each caller."""
    return {"file": ("名单.csv", f"姓名\r\n导入居民{next(FRESH)}".encode())}


def opening_file(api: Api, world: World, caller: str) -> dict[str, Any]:
    """Opening balances of one fresh resident of A, made afresh for each caller."""
    rid = fresh_resident(api, world, caller)["resident_id"]
    return {"file": ("期初.csv", f"居民编号,存折号,积分\r\n{rid},P{rid},1".encode())}


def waiting_batch(api: Api, world: World, caller: str) -> dict[str, Any]:
    """A batch of opening balances of A uploaded by ``staff-a2``, waiting, for each caller."""
    uploader = api.run(staff_of, world, "staff-a2")
    data = opening_file(api, world, caller)["file"][1]
    made = api.run(partial(openings.upload, dry_run=False), uploader, A, data, "期初.csv")
    return {"batch_id": made.batch_id}


def household(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"address": f"{next(FRESH)}号楼1单元101室"}


def no_household(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {"household_id": None}


def new_proxy(api: Api, world: World, caller: str) -> dict[str, Any]:
    """A fresh resident of A to name as proxy, for each caller."""
    return {"proxy_id": fresh_resident(api, world, caller)["resident_id"]}


def target_proxy(api: Api, world: World, caller: str) -> dict[str, Any]:
    """A fresh resident of A whom the target named proxy, for each caller."""
    proxy = fresh_resident(api, world, caller)["resident_id"]
    api.run(proxies.grant, ADMIN, world.target, proxy)
    return {"proxy_id": proxy}


def res_a_proxy(api: Api, world: World, caller: str) -> dict[str, Any]:
    """A fresh resident of A whom ``res-a`` named proxy, for each caller."""
    proxy = fresh_resident(api, world, caller)["resident_id"]
    api.run(proxies.grant, ADMIN, world.residents["res-a"], proxy)
    return {"proxy_id": proxy}


OPEN = (200,) * 7
# fmt: off
TABLE = [
    #                                                   admin staff-a staff-b vol-a res-a res-b anon
    Row("POST",   "/auth/token",                        OPEN, sign_in),
    Row("DELETE", "/auth/token",                        (204, 204, 204, 204, 204, 204, 401)),
    Row("POST",   "/me/password",                       (204, 204, 204, 204, 403, 403, 401), same_password),
    Row("POST",   "/communities",                       (201, 403, 403, 403, 403, 403, 401), community),
    Row("POST",   "/communities/{slug}/grids",          (201, 201, 403, 403, 403, 403, 401), grid),
    Row("POST",   "/communities/{slug}/budget/grants",  (201, 403, 403, 403, 403, 403, 401), points, True),
    Row("GET",    "/communities/{slug}/budget",         (200, 200, 403, 403, 403, 403, 401)),
    Row("GET",    "/communities/{slug}/policy",         (200, 200, 403, 403, 403, 403, 401)),
    Row("PUT",    "/communities/{slug}/policy",         (200, 403, 403, 403, 403, 403, 401), same_policy),
    Row("POST",   "/users",                             (201, 201, 403, 403, 403, 403, 401), volunteer),
    Row("PUT",    "/users/{user_id}/outlets",           (200, 200, 404, 403, 403, 403, 401), no_outlets, ids=vol_a),
    Row("GET",    "/users",                             (200, 200, 200, 403, 403, 403, 401)),
    Row("PATCH",  "/users/{user_id}",                   (200, 403, 403, 403, 403, 403, 401), no_own_record, ids=vol_a),
    Row("POST",   "/users/{user_id}/deactivate",        (200, 200, 404, 403, 403, 403, 401), ids=fresh_volunteer),
    Row("POST",   "/users/{user_id}/reactivate",        (200, 200, 404, 403, 403, 403, 401), ids=switched_off_volunteer),
    Row("POST",   "/communities/{slug}/residents",      (201, 201, 403, 403, 403, 403, 401), resident),
    Row("GET",    "/communities/{slug}/residents",      (200, 200, 403, 403, 403, 403, 401)),
    Row("GET",    "/residents/{resident_id}",           (200, 200, 404, 403, 403, 403, 401)),
    Row("POST",   "/residents/{resident_id}/activation", (201, 201, 404, 403, 403, 403, 401)),
    Row("POST",   "/activate",                          OPEN, activation_code),
    Row("POST",   "/residents/{resident_id}/card",      (201, 201, 404, 403, 403, 403, 401), pin),
    Row("POST",   "/residents/{resident_id}/card/approve", (200, 200, 404, 403, 403, 403, 401), ids=waiting_card),
    Row("GET",    "/residents/{resident_id}/passbook",  (200, 200, 404, 403, 403, 403, 401)),
    Row("PATCH",  "/residents/{resident_id}",           (200, 200, 404, 403, 403, 403, 401), same_name),
    Row("POST",   "/residents/{resident_id}/close",     (200, 200, 404, 403, 403, 403, 401), reason, ids=fresh_resident),
    Row("POST",   "/residents/{resident_id}/merge",     (200, 200, 404, 403, 403, 403, 401), merge_into, ids=fresh_resident),
    Row("GET",    "/me",                                (403, 403, 403, 403, 200, 200, 401)),
    Row("GET",    "/me/pay-code",                       (403, 403, 403, 403, 200, 200, 401)),
    Row("GET",    "/me/passbook",                       (403, 403, 403, 403, 200, 200, 401)),
    Row("GET",    "/communities/{slug}/audit",          (200, 200, 403, 403, 403, 403, 401)),
    Row("GET",    "/ledger/verify",                     (200, 403, 403, 403, 403, 403, 401)),
    Row("POST",   "/communities/{slug}/rules",          (201, 201, 403, 403, 403, 403, 401), rule),
    Row("GET",    "/communities/{slug}/rules",          (200, 200, 403, 403, 403, 403, 401)),
    Row("POST",   "/awards",                            (201, 201, 403, 403, 403, 403, 401), award, True),
    Row("GET",    "/communities/{slug}/awards",         (200, 200, 403, 403, 403, 403, 401)),
    Row("GET",    "/awards/{award_id}",                 (200, 200, 404, 403, 403, 403, 401), ids=waiting_award),
    Row("POST",   "/awards/{award_id}/approve",         (200, 200, 404, 403, 403, 403, 401), ids=waiting_award),
    Row("POST",   "/awards/{award_id}/reject",          (200, 200, 404, 403, 403, 403, 401), reason, ids=waiting_award),
    Row("POST",   "/awards/{award_id}/reverse",         (201, 201, 404, 403, 403, 403, 401), reason, True, posted_award),
    Row("GET",    "/communities/{slug}/notice",         OPEN),
    Row("POST",   "/notice/{entry_id}/objections",      (403, 403, 403, 403, 201, 404, 401), objection, ids=fresh_entry),
    Row("GET",    "/me/objections",                     (403, 403, 403, 403, 200, 200, 401)),
    Row("GET",    "/communities/{slug}/objections",     (200, 200, 403, 403, 403, 403, 401)),
    Row("POST",   "/objections/{objection_id}/decision", (200, 200, 404, 403, 403, 403, 401), dismissal, ids=open_objection),
    Row("GET",    "/communities/{slug}/stats",          (200, 200, 403, 403, 403, 403, 401)),
    Row("GET",    "/stats",                             (200, 403, 403, 403, 403, 403, 401)),
    Row("GET",    "/communities/{slug}/exports/{name}", (200, 200, 403, 403, 403, 403, 401), ids=passbook_csv),
    Row("GET",    "/communities/{slug}/exports/{name}", (200, 200, 403, 403, 403, 403, 401), ids=awards_xlsx),
    Row("GET",    "/communities/{slug}/exports/{name}", (200, 200, 403, 403, 403, 403, 401), ids=settlement_csv),
    Row("POST",   "/communities/{slug}/residents/import", (200, 200, 403, 403, 403, 403, 401), files=roster),
    Row("POST",   "/communities/{slug}/opening-balances", (200, 200, 403, 403, 403, 403, 401), files=opening_file),
    Row("GET",    "/communities/{slug}/opening-balances", (200, 200, 403, 403, 403, 403, 401)),
    Row("GET",    "/opening-balances/{batch_id}",       (200, 200, 404, 403, 403, 403, 401), ids=waiting_batch),
    Row("POST",   "/opening-balances/{batch_id}/approve", (200, 200, 404, 403, 403, 403, 401), ids=waiting_batch),
    Row("POST",   "/opening-balances/{batch_id}/reject", (200, 200, 404, 403, 403, 403, 401), reason, ids=waiting_batch),
    Row("GET",    "/anomalies",                         (200, 403, 403, 403, 403, 403, 401)),
    Row("POST",   "/me/submissions",                    (403, 403, 403, 403, 201, 201, 401), submission),
    Row("GET",    "/me/submissions",                    (403, 403, 403, 403, 200, 200, 401)),
    Row("GET",    "/communities/{slug}/submissions",    (200, 200, 403, 403, 403, 403, 401)),
    Row("GET",    "/submissions/{submission_id}",       (200, 200, 404, 403, 200, 404, 401), ids=open_submission),
    Row("POST",   "/submissions/{submission_id}/decision", (200, 200, 404, 403, 403, 403, 401), decision, ids=open_submission),
    Row("POST",   "/me/submissions/{submission_id}/rating", (403, 403, 403, 403, 201, 404, 401), rating, ids=resolved_submission),
    Row("GET",    "/me/inbox",                          (403, 403, 403, 403, 200, 200, 401)),
    Row("POST",   "/me/inbox/read",                     (403, 403, 403, 403, 200, 200, 401), lambda *_: {}),
    Row("POST",   "/communities/{slug}/announcements",  (201, 201, 403, 403, 403, 403, 401), announcement),
    Row("GET",    "/communities/{slug}/announcements",  (200, 200, 403, 403, 403, 403, 401)),
    Row("GET",    "/communities/{slug}/submission-deadlines", (200, 200, 403, 403, 403, 403, 401)),
    Row("PUT",    "/communities/{slug}/submission-deadlines", (200, 200, 403, 403, 403, 403, 401), deadlines),
    Row("POST",   "/communities/{slug}/activities",     (201, 201, 403, 403, 403, 403, 401), new_activity),
    Row("GET",    "/communities/{slug}/activities",     (200, 200, 403, 403, 200, 403, 401)),
    Row("GET",    "/activities/{activity_id}",          (200, 200, 404, 403, 200, 404, 401)),
    Row("GET",    "/me/activities",                     (403, 403, 403, 403, 200, 200, 401)),
    Row("POST",   "/activities/{activity_id}/signup",   (403, 403, 403, 403, 201, 404, 401)),
    Row("DELETE", "/activities/{activity_id}/signup",   (403, 403, 403, 403, 200, 404, 401)),
    Row("GET",    "/activities/{activity_id}/checkin-code", (200, 200, 404, 403, 403, 403, 401)),
    Row("POST",   "/activities/{activity_id}/checkin",  (403, 403, 403, 403, 201, 404, 401), checkin_code),
    Row("POST",   "/activities/{activity_id}/attendance", (201, 201, 404, 403, 403, 403, 401), attendee_code),
    Row("POST",   "/activities/{activity_id}/attendance/by-name", (200, 200, 404, 403, 403, 403, 401), sheet_names),
    Row("PATCH",  "/activities/{activity_id}",          (200, 200, 404, 403, 403, 403, 401), place_change, ids=fresh_call),
    Row("POST",   "/activities/{activity_id}/cancel",   (200, 200, 404, 403, 403, 403, 401), cancellation, ids=fresh_call),
    Row("DELETE", "/activities/{activity_id}/checkins/{resident_id}", (204, 204, 404, 403, 403, 403, 401), ids=fresh_checkin),
    Row("POST",   "/activities/{activity_id}/hours",    (200, 200, 404, 403, 403, 403, 401), attendee_hours, ids=hours_call),
    Row("GET",    "/me/hours",                          (403, 403, 403, 403, 200, 200, 401)),
    Row("GET",    "/me/orders",                         (403, 403, 403, 403, 200, 200, 401)),
    Row("PUT",    "/me/ranking",                        (403, 403, 403, 403, 200, 200, 401), lambda *_: {"ranking_opt_in": False}),
    Row("GET",    "/communities/{slug}/ranking",        OPEN),
    Row("GET",    "/me/offline-codes",                  (403, 403, 403, 403, 200, 200, 401)),
    Row("POST",   "/activities/{activity_id}/settle",   (200, 200, 404, 403, 403, 403, 401)),
    Row("POST",   "/communities/{slug}/outlets",        (201, 201, 403, 403, 403, 403, 401), outlet),
    Row("GET",    "/communities/{slug}/outlets",        (200, 200, 403, 200, 200, 403, 401)),
    Row("POST",   "/communities/{slug}/donors",         (201, 201, 403, 403, 403, 403, 401), donor),
    Row("GET",    "/communities/{slug}/donors",         (200, 200, 403, 403, 403, 403, 401)),
    Row("POST",   "/communities/{slug}/items",          (201, 201, 403, 403, 403, 403, 401), item),
    Row("GET",    "/communities/{slug}/items",          (200, 200, 403, 200, 200, 403, 401)),
    Row("GET",    "/communities/{slug}/low-stock",      (200, 200, 403, 200, 403, 403, 401)),
    Row("POST",   "/outlets/{outlet_id}/stock",         (201, 201, 404, 403, 403, 403, 401), stock, True),
    Row("GET",    "/outlets/{outlet_id}/stock",         (200, 200, 404, 200, 200, 404, 401)),
    Row("POST",   "/outlets/{outlet_id}/lookup",        (200, 200, 404, 200, 403, 403, 401), scope_pay_code),
    Row("POST",   "/outlets/{outlet_id}/orders",        (201, 201, 404, 201, 403, 403, 401), scope_checkout, True),
    Row("GET",    "/orders/{order_id}",                 (200, 200, 404, 200, 200, 404, 401), ids=scope_order),
    Row("POST",   "/orders/{order_id}/refund",          (201, 201, 404, 403, 403, 403, 401), None, True, scope_order),
    Row("POST",   "/reservations/{reservation_id}/collect", (201, 201, 404, 201, 403, 403, 401), scope_pay_code, True, scope_reservation),
    Row("GET",    "/me/shift",                          (200, 200, 200, 200, 403, 403, 401)),
    Row("POST",   "/me/reservations",                   (403, 403, 403, 403, 201, 404, 401), scope_reserve, True),
    Row("GET",    "/me/reservations",                   (403, 403, 403, 403, 200, 200, 401)),
    Row("DELETE", "/me/reservations/{reservation_id}",  (403, 403, 403, 403, 200, 404, 401), ids=scope_reservation),
    Row("POST",   "/communities/{slug}/households",     (201, 201, 403, 403, 403, 403, 401), household),
    Row("GET",    "/communities/{slug}/households",     (200, 200, 403, 403, 403, 403, 401)),
    Row("PUT",    "/residents/{resident_id}/household", (200, 200, 404, 403, 403, 403, 401), no_household),
    Row("POST",   "/residents/{resident_id}/proxies",   (201, 201, 404, 403, 403, 403, 401), new_proxy),
    Row("GET",    "/residents/{resident_id}/proxies",   (200, 200, 404, 403, 403, 403, 401)),
    Row("DELETE", "/residents/{resident_id}/proxies/{proxy_id}", (204, 204, 404, 403, 403, 403, 401), ids=target_proxy),
    Row("POST",   "/me/proxies",                        (403, 403, 403, 403, 201, 404, 401), new_proxy),
    Row("GET",    "/me/proxies",                        (403, 403, 403, 403, 200, 200, 401)),
    Row("DELETE", "/me/proxies/{proxy_id}",             (403, 403, 403, 403, 204, 404, 401), ids=res_a_proxy),
    Row("GET",    "/me/buildings",                      (403, 403, 403, 403, 403, 403, 401)),
    Row("GET",    "/me/proposals",                      (403, 403, 403, 403, 403, 403, 401)),
]
# fmt: on


def call(api: Api, world: World, row: Row, caller: str) -> Any:
    token = None if caller == "anon" else api.run(new_token, world, caller)
    body = row.body(api, world, caller) if row.body else None
    # one key per caller and endpoint: one request's key never meets another's in the same book
    headers = {"Idempotency-Key": f"scope-{caller}-{row}"} if row.idempotent else {}
    ids = {
        "slug": A,
        "resident_id": world.target,
        "outlet_id": world.outlets["outlet-a"],
        "activity_id": world.activities["activity-a"],
    }
    path = row.route.format(**{**ids, **(row.ids(api, world, caller) if row.ids else {})})
    files = row.files(api, world, caller) if row.files else None
    return api.request(row.method, path, token, json=body, headers=headers, files=files)


@pytest.mark.parametrize(
    ("row", "caller"),
    [(row, caller) for row in TABLE for caller in CALLERS],
    ids=[f"{row}-{caller}" for row in TABLE for caller in CALLERS],
)
def test_each_caller_gets_exactly_what_the_table_says(
    api: Api, world: World, row: Row, caller: str
) -> None:
    expected = row.expect[CALLERS.index(caller)]
    response = call(api, world, row, caller)
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == REFUSALS[expected]
        leaked = [marker for marker in A_DATA if marker in response.text]
        assert leaked == [], f"{caller} was refused but saw {leaked}"


def test_allowed_callers_do_see_community_a_data(api: Api, world: World) -> None:
    """The leak check above could only pass vacuously if A's data never showed: it does show."""
    staff = api.run(new_token, world, "staff-a")
    shown = api.get(f"/residents/{world.target}", staff).text
    passbook = api.get(f"/residents/{world.target}/passbook", staff).text
    audit = api.get(f"/communities/{A}/audit", staff).text
    assert all(marker in shown + passbook + audit for marker in A_DATA)


def test_the_table_covers_every_api_endpoint(api: Api) -> None:
    routes = {
        (method, re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path.removeprefix("/api/v1")))
        for route in api.client.app.routes
        if route.path.startswith("/api/v1/")
        for method in getattr(route, "methods", ())
        if method not in ("HEAD", "OPTIONS")
    }
    assert routes == {(row.method, row.route) for row in TABLE}
