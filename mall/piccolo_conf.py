"""Piccolo's configuration: the engine named by ``MALL_DATABASE_URL`` and the three apps, in order."""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from mall.db import dialect_of, sqlite_path
from mall.settings import get_settings

_url = get_settings().database_url

DB = (
    SQLiteEngine(path=sqlite_path(_url), timeout=10)
    if dialect_of(_url) == "sqlite"
    else PostgresEngine(config={"dsn": _url})
)

APP_REGISTRY = AppRegistry(apps=["ledger.piccolo_app", "catalog.piccolo_app", "mall.piccolo_app"])
