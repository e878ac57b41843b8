"""Counters of what the service did, in this process, for ``/metrics`` (web/metrics.py serves
them with the request figures). Incremented where the thing happens; replays count nothing."""

from __future__ import annotations

from prometheus_client import Counter

CHECKOUTS = Counter("mall_checkouts", "Checkouts completed at a counter (replays not counted)")
AWARDS = Counter("mall_awards", "Awards made or decided, by the status they reached", ["status"])
HOUSEKEEPING = Counter("mall_housekeeping_runs", "Housekeeping runs made by this process")
