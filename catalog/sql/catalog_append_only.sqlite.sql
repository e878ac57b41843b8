-- Mirrors catalog.stock (only INSERTs stock movements): SQLite refuses UPDATE and DELETE on them.
CREATE TRIGGER catalog_stock_movement_no_update BEFORE UPDATE ON catalog_stock_movement
        BEGIN SELECT RAISE(ABORT, 'catalog_stock_movement is append-only'); END;
-- statement
CREATE TRIGGER catalog_stock_movement_no_delete BEFORE DELETE ON catalog_stock_movement
        BEGIN SELECT RAISE(ABORT, 'catalog_stock_movement is append-only'); END;
