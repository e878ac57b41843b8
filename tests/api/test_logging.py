"""A refusal is answered with a problem, not logged as a crash: the log is for what went wrong
on our side, and a traceback per refused order would bury it (and cost CPU at a busy counter)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

import catalog
import ledger
from mall.errors import LimitExceeded, MallError
from tests.api.helpers import Api, problem
from tests.api.world import A, World
from web.problems import answered_errors

Token = Callable[[str], str]


@pytest.fixture
def errors_logged() -> Iterator[list[logging.LogRecord]]:
    """What Litestar logs at ERROR or above while the test runs."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.ERROR)
    logger = logging.getLogger("litestar")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def test_refusals_of_every_kind_are_answered_without_an_error_in_the_log(
    api: Api, token: Token, world: World, errors_logged: list[logging.LogRecord]
) -> None:
    staff, admin, outlet = token("staff-a"), token("admin"), world.outlets["outlet-a"]
    stock = f"/outlets/{outlet}/stock"
    soap = next(i["level"] for i in api.get(stock, staff).json()["items"] if i["sku"] == "SOAP")
    take_all = {"sku": "SOAP", "quantity": -(soap + 1), "reason": "adjustment", "memo": "丢失"}
    problem(api.post(stock, staff, json=take_all, headers={"Idempotency-Key": "l1"}), 409, "out_of_stock")  # fmt: skip
    problem(api.post(stock, staff, json={"sku": 1}, headers={"Idempotency-Key": "l2"}), 400, "validation_error")  # fmt: skip
    code = {"code": "12345678901234567890"}
    problem(api.post(f"/outlets/{outlet}/lookup", staff, json=code), 400, "code_invalid")
    problem(api.get("/orders/999999", staff), 404, "not_found")
    grants = f"/communities/{A}/budget/grants"
    first = api.post(
        grants, admin, json={"points": 5, "memo": "一"}, headers={"Idempotency-Key": "g"}
    )
    assert first.status_code == 201, first.text
    problem(
        api.post(grants, admin, json={"points": 6, "memo": "二"}, headers={"Idempotency-Key": "g"}),
        422,
        "idempotency_key_reused",
    )
    assert [record.getMessage() for record in errors_logged] == []


def test_the_errors_spared_a_stack_trace_are_those_answered_with_a_problem() -> None:
    spared = answered_errors()
    assert {LimitExceeded, MallError, ledger.InsufficientFunds, catalog.OutOfStock} <= spared
    assert Exception not in spared and RuntimeError not in spared


def test_an_unexpected_error_is_logged_once_and_its_path_cannot_forge_a_line(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our own failure is logged, once, with a traceback; the log names the route, not the path,
    so a ``%0a`` in the path cannot start a line of its own (nor a code in it be logged)."""
    import web.app

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.ERROR)
    watched = [logging.getLogger(name) for name in ("", "litestar", "mall", "mall.web", "uvicorn")]
    for logger in watched:
        logger.addHandler(handler)
    monkeypatch.setattr(web.app, "Redirect", broken)
    try:
        answer = api.client.get("/lang/zh%0aINFO%20forged%20line")
    finally:
        for logger in watched:
            logger.removeHandler(handler)
    assert answer.status_code == 500
    assert len({id(r) for r in records}) == 1, [r.getMessage() for r in records]
    message = records[0].getMessage()
    assert "\n" not in message and "forged" not in message, message
    assert message == "unhandled error on GET /lang/{language}"
    assert records[0].exc_info is not None
