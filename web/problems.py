"""Errors as the user sees them: RFC 9457 problem details under /api, a plain page elsewhere.

This is the one place where the domain's errors meet their API ``code`` and HTTP status.
"""

from __future__ import annotations

import logging

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

import ledger

log = logging.getLogger("mall.web")

#: domain error → (code, HTTP status, title)
DOMAIN_ERRORS: dict[type[Exception], tuple[str, int, str]] = {
    ledger.InsufficientFunds: ("insufficient_points", 409, "积分不足 / Not enough points"),
    ledger.IdempotencyKeyReused: (
        "idempotency_key_reused",
        422,
        "请求编号已用于另一请求 / Idempotency key reused",
    ),
    ledger.InvalidJournal: ("validation_error", 400, "请求有误 / Invalid request"),
    ledger.AccountNotFound: ("not_found", 404, "找不到 / Not found"),
    ledger.JournalNotFound: ("not_found", 404, "找不到 / Not found"),
    ledger.HoldNotFound: ("not_found", 404, "找不到 / Not found"),
    ledger.AlreadyReversed: ("already_refunded", 409, "已经冲正 / Already reversed"),
    ledger.NotReversible: ("validation_error", 400, "不能冲正 / Cannot be reversed"),
    ledger.HoldAlreadyResolved: ("validation_error", 409, "预约已处理 / Hold already resolved"),
}

HTTP_TITLES = {
    400: "请求有误 / Invalid request",
    401: "请先登录 / Please sign in",
    403: "没有权限 / Not allowed",
    404: "找不到 / Not found",
    405: "不支持这个操作 / Not allowed here",
    422: "请求有误 / Invalid request",
    429: "操作太频繁，请稍后再试 / Too many attempts, please wait",
}

HTTP_CODES = {
    400: "validation_error",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "validation_error",
    429: "rate_limited",
}


def problem(request: Request, status: int, code: str, title: str, detail: str) -> Response:
    if request.url.path.startswith("/api/"):
        return Response(
            {
                "type": "about:blank",
                "title": title,
                "status": status,
                "detail": detail,
                "code": code,
            },
            status_code=status,
            media_type="application/problem+json",
        )
    return Template(
        template_name="error.html",
        context={"status": status, "title": title, "detail": detail},
        status_code=status,
        media_type=MediaType.HTML,
    )  # type: ignore[return-value]


def handle_domain_error(request: Request, exc: Exception) -> Response:
    for cls in type(exc).__mro__:
        if cls in DOMAIN_ERRORS:
            code, status, title = DOMAIN_ERRORS[cls]
            return problem(request, status, code, title, str(exc))
    return handle_unexpected(request, exc)


def handle_http_error(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    detail = exc.detail
    if isinstance(exc, ValidationException) and exc.extra:
        detail = f"{exc.detail}: {exc.extra}"
    title = HTTP_TITLES.get(status, str(exc.detail))
    return problem(request, status, HTTP_CODES.get(status, "error"), title, str(detail))


def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal_error",
        "系统出错了，请稍后再试 / Something went wrong",
        "the error was logged",
    )


EXCEPTION_HANDLERS = {
    ledger.LedgerError: handle_domain_error,
    HTTPException: handle_http_error,
    Exception: handle_unexpected,
}
