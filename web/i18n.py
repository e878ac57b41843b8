"""Languages: Chinese (zh-Hans) first, English second, through gettext catalogues.

Message ids are English. The ``.po`` catalogues under ``web/locale`` are compiled in memory when
the app starts, so there is no build step and no compiled file to fall out of date. The language
of a request comes from the ``lang`` cookie (the switch on every page), else Accept-Language,
else Chinese.
"""

from __future__ import annotations

import contextvars
import functools
import gettext as _gettext
import io
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = {"zh_Hans": "zh-Hans", "en": "en"}  # catalogue name → HTML lang
DEFAULT = "zh_Hans"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=DEFAULT)


@functools.cache
def translations(language: str) -> _gettext.NullTranslations:
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return _gettext.NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def choose(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh_Hans"
        if tag.startswith("en"):
            return "en"
    return DEFAULT


def set_language(language: str) -> None:
    """Answer in ``language`` from here on in this context. Setting a context variable costs
    every request that does it about 9k instructions (bench/instructions.py), so it is left
    alone when it already holds the language: most API calls ask for the default."""
    chosen = language if language in LANGUAGES else DEFAULT
    if chosen != _current.get():
        _current.set(chosen)


def current() -> str:
    return _current.get()


def html_lang() -> str:
    return LANGUAGES[current()]


def gettext(message: str, **params: Any) -> str:
    text = translations(current()).gettext(message)
    return text.format(**params) if params else text


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    text = translations(current()).ngettext(singular, plural, n)
    return text.format(n=n, **params)


_ = gettext
