"""What Litestar injects into handlers by name: ``db``, the database the app's lifespan opened,
and ``settings``. Providers only hand out what exists; they never open or close anything."""

from __future__ import annotations

from typing import TypeAlias

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation

from mall.access import Principal
from mall.db import Database
from mall.settings import Settings, get_settings

Db: TypeAlias = NamedDependency[SkipValidation[Database]]
"""``db: Db`` in a handler's signature: the app's database (not validated per request: it is ours)."""

AppSettings: TypeAlias = NamedDependency[SkipValidation[Settings]]
"""``settings: AppSettings`` in a handler's signature."""

Caller: TypeAlias = NamedDependency[SkipValidation[Principal]]
"""``p: Caller`` in a handler's signature: the signed-in principal, where the route's
dependencies say who may call it (``web.api.callers.allow``)."""


def dependencies(state: State) -> dict[str, Provide]:
    """The providers of one app, reading the database from its ``state`` (set by the lifespan).

    They take no arguments, so Litestar calls them without building a signature model per request
    (asking for ``state`` or ``request`` instead costs about a tenth of the injection's time per
    checkout, bench/checkout.py --profile). Made per app: tests run several apps in one process.

    A handler whose dependencies do not depend on one another (``db`` and ``settings``) has them
    resolved concurrently in an anyio task group: about 300k instructions, a tenth of a checkout
    (bench/instructions.py). The caller ``p`` depends on ``db`` (web/api/callers.py), so a
    handler taking both never pays it; keep hot handlers to ``db`` and ``p``.
    """

    def provide_db() -> Database:
        """The app's database, opened and closed by ``web.app``'s lifespan."""
        db: Database = state.db
        return db

    return {
        "db": Provide(provide_db, sync_to_thread=False),
        "settings": Provide(get_settings, sync_to_thread=False),
    }
