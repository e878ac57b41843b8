"""Earning points (赚积分): rules, awards (with four-eyes approval) and their reversal, recruitment
calls (招募令) with check-in and settlement, and residents' submissions (proposals, dispute reports,
micro-wishes), the street administrator's list of anomalies, the opening balances from the
paper passbooks (期初积分), and points expiry (``expiry``: what expires when; ``expiring``: the
housekeeping step that takes expired points back).

Builds on ``mall.access``, ``mall.org`` and ``mall.people``; independent of the shop and the counter.
"""

__all__ = [
    "activities",
    "activity_changes",
    "anomalies",
    "award_records",
    "awards",
    "checkin",
    "opening_approval",
    "openings",
    "proposals",
    "expiring",
    "expiry",
    "hours",
    "reversals",
    "rules",
    "sheet",
    "signups",
    "submissions",
    "threshold",
    "values",
]
