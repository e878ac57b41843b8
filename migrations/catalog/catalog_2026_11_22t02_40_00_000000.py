"""Rules of the catalog the database enforces: unique SKUs and levels, levels never below
zero, signed non-zero movements, one movement per idempotency key, append-only movements."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T02:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "catalog constraints and append-only stock movements"

COMMON = [
    "CREATE UNIQUE INDEX catalog_item_community_sku ON catalog_item (community_id, sku)",
    "CREATE UNIQUE INDEX catalog_stock_level_outlet_item ON catalog_stock_level (outlet, item)",
    "CREATE UNIQUE INDEX catalog_stock_movement_outlet_item_version"
    " ON catalog_stock_movement (outlet, item, version)",
    "CREATE UNIQUE INDEX catalog_stock_movement_outlet_key"
    " ON catalog_stock_movement (outlet, idempotency_key) WHERE idempotency_key IS NOT NULL",
    "CREATE INDEX catalog_stock_movement_reference ON catalog_stock_movement (reference)",
]

SQLITE = [
    """CREATE TRIGGER catalog_stock_level_not_negative BEFORE UPDATE ON catalog_stock_level
       WHEN NEW.level < 0 BEGIN SELECT RAISE(ABORT, 'catalog: stock level below zero'); END""",
    """CREATE TRIGGER catalog_stock_movement_not_zero BEFORE INSERT ON catalog_stock_movement
       WHEN NEW.quantity = 0 OR NEW.level_after < 0
       BEGIN SELECT RAISE(ABORT, 'catalog: movement of zero or below zero'); END""",
] + [
    f"""CREATE TRIGGER catalog_stock_movement_no_{op.lower()} BEFORE {op} ON catalog_stock_movement
        BEGIN SELECT RAISE(ABORT, 'catalog_stock_movement is append-only'); END"""
    for op in ("UPDATE", "DELETE")
]

POSTGRES = [
    "ALTER TABLE catalog_stock_level ADD CONSTRAINT catalog_level_not_negative CHECK (level >= 0)",
    "ALTER TABLE catalog_stock_movement ADD CONSTRAINT catalog_movement_not_zero"
    " CHECK (quantity <> 0 AND level_after >= 0)",
    """CREATE FUNCTION catalog_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'catalog: % is append-only', TG_TABLE_NAME; END $$""",
    """CREATE TRIGGER catalog_stock_movement_append_only
       BEFORE UPDATE OR DELETE OR TRUNCATE ON catalog_stock_movement
       FOR EACH STATEMENT EXECUTE FUNCTION catalog_refuse_change()""",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="catalog", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in COMMON + (SQLITE if engine.engine_type == "sqlite" else POSTGRES):
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
