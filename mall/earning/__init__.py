"""Earning points (赚积分): rules, awards (with four-eyes approval) and their reversal, recruitment
calls (招募令) with check-in and settlement, and residents' submissions (proposals, dispute reports,
micro-wishes), the street administrator's list of anomalies, and the opening balances from the
paper passbooks (期初积分).

Builds on ``mall.access``, ``mall.org`` and ``mall.people``; independent of the shop and the counter.
"""

__all__ = [
    "activities",
    "anomalies",
    "award_records",
    "awards",
    "checkin",
    "opening_approval",
    "openings",
    "reversals",
    "rules",
    "sheet",
    "signups",
    "submissions",
    "threshold",
    "values",
]
