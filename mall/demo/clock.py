"""The demo's past: while ``mall demo`` loads its history, the ledger, the rules and the award
service stamp the day the history happened instead of now, so that the statistics, the notice
board and the passbooks show a month of it rather than one busy afternoon.

Only the demo loader uses this (one process, nothing else running in it); the services
themselves take no date from their callers, so no user can ever backdate a point.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import ledger.journals
from mall.earning import awards, rules

#: the modules whose ``now()`` stamps what the demo's history writes
STAMPED = (ledger.journals, awards, rules)
CLOCK = "now"


@contextmanager
def dated(moment: datetime) -> Iterator[None]:
    """Within the block, what the history writes is stamped ``moment``."""
    saved = [getattr(module, CLOCK) for module in STAMPED]
    try:
        for module in STAMPED:
            setattr(module, CLOCK, lambda: moment)
        yield
    finally:
        for module, now in zip(STAMPED, saved, strict=True):
            setattr(module, CLOCK, now)
