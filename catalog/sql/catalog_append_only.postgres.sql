-- Mirrors catalog.stock (only INSERTs stock movements): PostgreSQL refuses UPDATE, DELETE, TRUNCATE.
CREATE OR REPLACE FUNCTION catalog_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'catalog: % is append-only', TG_TABLE_NAME; END $$;
-- statement
CREATE TRIGGER catalog_stock_movement_append_only
       BEFORE UPDATE OR DELETE OR TRUNCATE ON catalog_stock_movement
       FOR EACH STATEMENT EXECUTE FUNCTION catalog_refuse_change();
