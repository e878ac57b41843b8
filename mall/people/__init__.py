"""People (人员): user accounts and sign-in, residents, and the signed codes that stand for them
(activation papers, printed cards, pay codes); correcting, closing and merging records.

Builds on ``mall.access`` and ``mall.org``.
"""

__all__ = ["auth", "codes", "credentials", "lifecycle", "residents", "users"]
