"""A message of a resident's inbox in the reader's language: a kind's words (``mall.notify.kinds``)
translated and filled from its params; an announcement's, staff's own, as written. The text is
never marked safe: templates escape it where they show it."""

from __future__ import annotations

from mall.notify.inbox import Message
from web.i18n import gettext as _


def words(m: Message) -> tuple[str, str]:
    """``(title, body)`` as the reader reads them."""
    if m.literal:
        return m.title, m.body
    try:
        return _(m.title), _(m.body, **m.params).strip()
    except (KeyError, IndexError, ValueError):  # a message older than its kind's words
        return _(m.title), ""
