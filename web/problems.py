"""Errors as the user sees them, in their language: RFC 9457 problem details under /api, a plain
page elsewhere. This is the one place where domain errors meet their API ``code`` and status."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Template
from litestar.types import ExceptionHandlersMap

import catalog
import ledger
from mall.errors import N_, MallError
from web.i18n import choose, gettext, set_language
from web.metrics import count_refusal

log = logging.getLogger("mall.web")

#: ledger error → (code, HTTP status, message id)
LEDGER_ERRORS: dict[type[Exception], tuple[str, int, str]] = {
    ledger.InsufficientFunds: ("insufficient_points", 409, N_("Not enough points.")),
    ledger.IdempotencyKeyReused: (
        "idempotency_key_reused",
        422,
        N_("This request number was already used for a different request."),
    ),
    ledger.InvalidJournal: ("validation_error", 400, N_("Please check what you entered.")),
    ledger.AccountNotFound: ("not_found", 404, N_("Not found.")),
    ledger.JournalNotFound: ("not_found", 404, N_("Not found.")),
    ledger.HoldNotFound: ("not_found", 404, N_("Not found.")),
    ledger.AlreadyReversed: ("already_refunded", 409, N_("This has already been reversed.")),
    ledger.NotReversible: ("validation_error", 400, N_("This cannot be reversed.")),
    ledger.HoldAlreadyResolved: (
        "validation_error",
        409,
        N_("This reservation is already settled."),
    ),
}

#: catalog error → (code, HTTP status, message id); the message may name the error's attributes
CATALOG_ERRORS: dict[type[Exception], tuple[str, int, str]] = {
    catalog.OutOfStock: ("out_of_stock", 409, N_("{name}: only {level} left.")),
    catalog.MovementKeyReused: (
        "idempotency_key_reused",
        422,
        N_("This request number was already used for a different request."),
    ),
    catalog.InvalidMovement: ("validation_error", 400, N_("Please check what you entered.")),
    catalog.ItemNotFound: ("not_found", 404, N_("Not found.")),
    catalog.OutletNotFound: ("not_found", 404, N_("Not found.")),
    catalog.InvalidItem: ("validation_error", 400, N_("Please check what you entered.")),
    catalog.SkuTaken: ("already_exists", 409, N_("This item number is already in the catalog.")),
}

HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("validation_error", N_("Please check what you entered.")),
    401: ("unauthenticated", N_("Please sign in first.")),
    403: ("forbidden", N_("You are not allowed to do this.")),
    404: ("not_found", N_("Not found.")),
    405: ("method_not_allowed", N_("This cannot be done here.")),
    409: ("conflict", N_("This conflicts with what is already there.")),
    413: ("too_large", N_("What you sent is too large. A picture may be at most 1 MB.")),
    422: ("validation_error", N_("Please check what you entered.")),
    429: ("rate_limited", N_("Too many attempts. Please wait a few minutes and try again.")),
    500: ("internal_error", N_("Something went wrong. Please try again later.")),
}


def route_of(request: Request[Any, Any, Any]) -> str:
    """The route's template (``/a/{code}``), never the path itself: a path may hold an
    activation or check-in code, which has no place in a log, or a %0a that would forge a line."""
    return str(request.scope.get("path_template") or "(no route)")


def home_of(request: Request[Any, Any, Any]) -> str:
    """Where an error page's 返回首页 leads: the counter from the counter's pages (a volunteer
    is at work there), the landing page from anywhere else."""
    return "/counter" if str(request.scope["path"]).startswith("/counter") else "/"


def problem(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    message: str,
    detail: str = "",
    **params: Any,
) -> Response[Any]:
    """``message`` is a message id; it is shown in the language of the request."""
    if status < 500:
        count_refusal(code, status)
        log.info("refused %s %s: %s %s", request.method, route_of(request), status, code)
    set_language(choose(request.cookies.get("lang"), request.headers.get("accept-language")))
    title = gettext(message, **params)
    if request.url.path.startswith("/api/"):
        return Response(
            {
                "type": "about:blank",
                "title": title,
                "status": status,
                "detail": detail or title,
                "code": code,
            },
            status_code=status,
            media_type="application/problem+json",
        )
    return Template(
        template_name="error.html",
        context={"status": status, "title": title, "detail": detail, "home": home_of(request)},
        status_code=status,
        media_type=MediaType.HTML,
    )


def answered_errors() -> set[type[Exception]]:
    """Every exception class answered here with a 4xx problem, subclasses included: for
    Litestar's ``disable_stack_trace``, which matches an exception's own class (or a
    ``status_code`` attribute, which ours do not have), never a base class."""

    def family(cls: type[Exception]) -> Iterator[type[Exception]]:
        yield cls
        for sub in cls.__subclasses__():
            yield from family(sub)

    bases: list[type[Exception]] = [MallError, *LEDGER_ERRORS, *CATALOG_ERRORS]
    return {c for base in bases for c in family(base)}


def handle_mall_error(request: Request[Any, Any, Any], exc: MallError) -> Response[Any]:
    return problem(request, exc.status, exc.code, exc.message, **exc.params)


def handle_ledger_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    for cls in type(exc).__mro__:
        if cls in LEDGER_ERRORS:
            code, status, message = LEDGER_ERRORS[cls]
            return problem(request, status, code, message, str(exc))
    return handle_unexpected(request, exc)


def handle_catalog_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    for cls in type(exc).__mro__:
        if cls in CATALOG_ERRORS:
            code, status, message = CATALOG_ERRORS[cls]
            return problem(request, status, code, message, str(exc), **vars(exc))
    return handle_unexpected(request, exc)


def handle_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    code, message = HTTP_ERRORS.get(exc.status_code, ("error", str(exc.detail)))
    detail = str(exc.detail)
    if isinstance(exc, ValidationException) and exc.extra:
        detail = f"{exc.detail}: {exc.extra}"
    return problem(request, exc.status_code, code, message, detail)


def _reading_the_request(exc: Exception) -> bool:
    """Whether ``exc`` was raised while Litestar read the request's body or parameters: a body
    that is not UTF-8 (``UnicodeDecodeError``) or JSON nested deeper than the decoder goes
    (``RecursionError``) is the sender's mistake, not ours."""
    if not isinstance(exc, UnicodeDecodeError | RecursionError):
        return False
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.startswith(("litestar._kwargs", "litestar.connection")):
            return True
        tb = tb.tb_next
    return False


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if _reading_the_request(exc):
        code, message = HTTP_ERRORS[400]
        return problem(request, 400, code, message, "the request body could not be read")
    # logged here and only here (Litestar's own exception log is off)
    log.error("unhandled error on %s %s", request.method, route_of(request), exc_info=exc)
    code, message = HTTP_ERRORS[500]
    return problem(request, 500, code, message, "the error was logged")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    MallError: handle_mall_error,
    ledger.LedgerError: handle_ledger_error,
    catalog.CatalogError: handle_catalog_error,
    HTTPException: handle_http_error,
    Exception: handle_unexpected,
}
