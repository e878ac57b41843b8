"""The item grid as the counter and the reservation form post and show it: the quantities asked
for, the items grouped by category, and a refusal in the reader's words beside the grid.
"""

from __future__ import annotations

from typing import Any

import catalog
from mall.counter.orders import Item
from mall.errors import MallError
from web.i18n import gettext as _
from web.problems import CATALOG_ERRORS, LEDGER_ERRORS


def problem_text(exc: Exception) -> tuple[str, int]:
    """A domain or catalog error in the reader's words, with the status to answer with."""
    if isinstance(exc, MallError):
        return _(exc.message, **exc.params), exc.status if exc.status >= 400 else 400
    if isinstance(exc, catalog.OutOfStock):
        return _(CATALOG_ERRORS[catalog.OutOfStock][2], **vars(exc)), 409
    for cls in type(exc).__mro__:
        if cls in LEDGER_ERRORS:
            _code, status, msg = LEDGER_ERRORS[cls]
            return _(msg), status
    raise exc


def quantities(form: Any) -> list[tuple[str, int]]:
    """``q_<sku>`` fields of the item grid as ``(sku, quantity)``; blanks and zeros left out."""
    wanted = []
    for name, value in form.items():
        if name.startswith("q_") and str(value).strip() not in ("", "0"):
            try:
                quantity = int(str(value).strip())
            except ValueError:
                quantity = -1
            wanted.append((name[2:], quantity))
    return wanted


def grouped(items: list[Item]) -> list[tuple[str, list[Item]]]:
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(item.category or _("Other"), []).append(item)
    return list(groups.items())
