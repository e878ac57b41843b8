"""The served app's log: structured (structlog), one record per event, each carrying the
request's id, as text for a person reading a terminal or as JSON lines (``MALL_LOG_FORMAT=json``)
for a log collector. Every logger (ours, Litestar's, uvicorn's) goes through the same formatter.

A request's id is the ``X-Request-ID`` it came with, if that is a plain token (a proxy's), or a
new one; it is sent back in the response's ``X-Request-ID``, so a resident's or volunteer's
report ("it failed at 10:42") can be matched to the log line. An id that could carry a line break
or markup is never echoed: a new one is made instead.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

import structlog

TOKEN = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")
#: The id of the request being served (each request runs in a context of its own).
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="")


def _add_request_id(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    rid = REQUEST_ID.get()
    if rid:
        event["request_id"] = rid
    return event


_SHARED: list[structlog.types.Processor] = [
    _add_request_id,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure(json: bool) -> None:
    """Send every logger's records to standard error, as JSON lines or as text."""
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "litestar"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
