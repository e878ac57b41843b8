-- Mirrors catalog.stock's refusals (a level below zero, a movement of zero): PostgreSQL, as CHECKs.
ALTER TABLE catalog_stock_level ADD CONSTRAINT catalog_level_not_negative CHECK (level >= 0);
-- statement
ALTER TABLE catalog_stock_movement ADD CONSTRAINT catalog_movement_not_zero CHECK (quantity <> 0 AND level_after >= 0);
