"""What makes the web app installable and usable offline: the service worker at the site root,
and the offline page it shows when the network fails.

``/sw.js`` is ``static/sw.js`` served from the root, so its scope is the whole site, with its cache
name stamped with a hash of what the worker keeps: everything under ``static/``, the offline page's
template and the catalogues that translate it. When any of them changes, the bytes of the worker
change, the browser installs it afresh and the old cache is dropped. ``no-cache`` makes the
browser ask for the worker on every check, so a fix reaches phones on their next visit.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from litestar import MediaType, Request, Response, get
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from web.assets import WEB, static_dir

STATIC = static_dir()
VERSION_MARK = '"__SHELL_VERSION__"'


def _shell_files() -> list[tuple[str, Path]]:
    """The files the worker keeps, each with a name that does not depend on where they lie."""
    static = [(f"static/{p.relative_to(STATIC)}", p) for p in STATIC.rglob("*") if p.is_file()]
    web = [WEB / "templates" / "offline.html", *WEB.glob("locale/*/LC_MESSAGES/messages.po")]
    return sorted(static + [(f"web/{p.relative_to(WEB)}", p) for p in web])


_versions: dict[tuple[tuple[str, int, int], ...], str] = {}


def shell_version() -> str:
    """A short hash of the files the worker keeps, recomputed only when one of them changes."""
    files = _shell_files()
    signature = tuple((name, p.stat().st_size, p.stat().st_mtime_ns) for name, p in files)
    if signature not in _versions:
        digest = hashlib.sha256()
        for name, path in files:
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
        _versions.clear()
        _versions[signature] = digest.hexdigest()[:12]
    return _versions[signature]


@get("/sw.js", include_in_schema=False, opt={"exclude_from_csrf": True})
async def service_worker() -> Response[bytes]:
    script = (STATIC / "sw.js").read_text(encoding="utf-8")
    script = script.replace(VERSION_MARK, json.dumps(shell_version()), 1)
    return Response(
        content=script.encode(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )


@get(
    "/offline",
    media_type=MediaType.HTML,
    include_in_schema=False,
    opt={"exclude_from_csrf": True},  # the worker caches this page: it must set no cookie
)
async def offline(request: Request[Any, Any, Any]) -> Template:
    """The page the service worker shows instead of the browser's error when there is no network.

    It is the same for everyone (no session is read): app.js fills in the resident's last-seen
    balance and passbook from this phone's own storage.
    """
    return Template(
        template_name="offline.html",
        headers={"Cache-Control": "no-cache"},
    )


PWA_ROUTES: list[ControllerRouterHandler] = [service_worker, offline]
