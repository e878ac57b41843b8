-- Mirrors catalog.stock's refusals (a level below zero, a movement of zero): SQLite, as triggers.
CREATE TRIGGER catalog_stock_level_not_negative BEFORE UPDATE ON catalog_stock_level
       WHEN NEW.level < 0 BEGIN SELECT RAISE(ABORT, 'catalog: stock level below zero'); END;
-- statement
CREATE TRIGGER catalog_stock_movement_not_zero BEFORE INSERT ON catalog_stock_movement
       WHEN NEW.quantity = 0 OR NEW.level_after < 0
       BEGIN SELECT RAISE(ABORT, 'catalog: movement of zero or below zero'); END;
