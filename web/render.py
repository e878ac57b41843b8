"""Pages and fragments: every URL answers with a full page; htmx requests that target a named
block get just that block (rendered by jinja2-fragments). Responses say ``Vary: HX-Request``."""

from __future__ import annotations

from typing import Any

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Request
from litestar.response import Template


def render(
    request: Request[Any, Any, Any],
    template: str,
    *,
    fragment: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """The page, or only block ``fragment`` when htmx asked for it; boosted navigation and
    history restores (the Back button) always get the whole page."""
    headers = {"Vary": "HX-Request"}
    htmx = request.headers.get("hx-request") == "true"
    whole_page = (
        request.headers.get("hx-boosted") == "true"
        or request.headers.get("hx-history-restore-request") == "true"
    )
    if fragment and htmx and not whole_page:
        return HTMXBlockTemplate(
            template_name=template,
            block_name=fragment,
            context=context,
            status_code=status_code,
            headers=headers,
        )
    return Template(
        template_name=template, context=context, status_code=status_code, headers=headers
    )
