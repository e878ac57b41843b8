"""Where the static files (``/static/...``, the service worker) are on disk; never serves them."""

from __future__ import annotations

from pathlib import Path

WEB = Path(__file__).resolve().parent


def static_dir() -> Path:
    """The static files folder, found in one of two places depending on how the app was installed.

    A wheel carries it inside the package (``web/static``, mapped in at build time by
    pyproject.toml); a checkout or an editable install has it at the top level, ``static/``.
    """
    inside = WEB / "static"
    return inside if inside.is_dir() else WEB.parent / "static"
