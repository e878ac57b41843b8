"""The counter (兑换): looking a resident up by pay code or card, the visit a scan starts (so
the page after it is a plain GET), checkout, refunds, orders, the volunteer's shift, and
reservations with their housekeeping. What its services return is typed (``values`` holds the
records several modules share).

Builds on ``mall.access``, ``mall.org`` and ``mall.people``; independent of earning.
"""

__all__ = [
    "basket",
    "checkout",
    "housekeeping",
    "lookup",
    "my_orders",
    "orders",
    "refunds",
    "reservations",
    "values",
    "visits",
]
