"""Demo data for this area of `mall demo`. (Filled in by the issue that owns it.)"""

from __future__ import annotations

import random

from mall.auth import Principal
from mall.db import Database


async def load(
    db: Database, rng: random.Random, slug: str, staff: Principal, resident_ids: list[int]
) -> list[str]:
    """Load this area's demo data for one community; return log-in lines to print, if any."""
    return []
