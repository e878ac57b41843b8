"""What the catalog needs from a database connection; ``mall.db`` provides it for both engines.

SQL is written with ``?`` placeholders; a connection for PostgreSQL rewrites them to ``$1, $2, ...``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

Row = Mapping[str, Any]


class Connection(Protocol):
    """A connection inside one transaction (or autocommit, for reads)."""

    dialect: str
    """``"sqlite"`` or ``"postgres"``."""

    async def execute(self, sql: str, *args: Any) -> None: ...

    async def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> None: ...

    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...

    async def fetchrow(self, sql: str, *args: Any) -> Row | None: ...

    async def fetchval(self, sql: str, *args: Any) -> Any: ...
