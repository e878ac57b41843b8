"""The organisation (组织): street, communities, grids, their points budgets, each community's
trust policy (``policy``), and the chart of accounts each community's book keeps in the ledger
(``points``); and the street at a glance (``overview``).

Builds on ``mall.access``; knows nothing of people, earning or the counter.
"""

__all__ = ["communities", "overview", "points", "policy"]
