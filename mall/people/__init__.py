"""People (人员): user accounts over their life and sign-in, residents, and the signed codes that
stand for them (activation papers, printed cards and their approval, pay codes); correcting,
closing and merging records; households, proxies (代领) and building heads' neighbours; a
resident's own choices (``preferences``: the ranking opt-in).

Builds on ``mall.access`` and ``mall.org``.
"""

__all__ = [
    "accounts",
    "auth",
    "cards",
    "code_lookup",
    "codes",
    "credentials",
    "heads",
    "households",
    "lifecycle",
    "passbooks",
    "preferences",
    "proxies",
    "residents",
    "statements",
    "users",
]
