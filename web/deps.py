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


def provide_db(state: State) -> Database:
    """The app's database, opened and closed by ``web.app``'s lifespan."""
    db: Database = state.db
    return db


def provide_settings() -> Settings:
    """The settings of the process (``mall.settings.get_settings``, read once and cached)."""
    return get_settings()


DEPENDENCIES = {
    "db": Provide(provide_db, sync_to_thread=False),
    "settings": Provide(provide_settings, sync_to_thread=False),
}
