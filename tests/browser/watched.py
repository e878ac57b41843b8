"""The type of a Playwright page the browser tests watch for console errors.

The fixtures attach a ``console_errors`` list to the pages they hand out; ``Page`` declares no
such attribute, so they ``cast`` each such page to this subclass, which is only ever a type.
"""

from __future__ import annotations

from playwright.sync_api import Page


class WatchedPage(Page):
    console_errors: list[str]
