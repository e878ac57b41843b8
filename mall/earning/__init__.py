"""Earning points (赚积分): rules, awards (with four-eyes approval), recruitment calls (招募令)
with check-in and settlement, and residents' submissions (proposals, dispute reports, micro-wishes).

Builds on ``mall.access``, ``mall.org`` and ``mall.people``; independent of the shop and the counter.
"""

__all__ = [
    "activities",
    "award_records",
    "awards",
    "checkin",
    "rules",
    "sheet",
    "signups",
    "submissions",
    "threshold",
    "values",
]
