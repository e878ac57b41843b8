-- Mirrors catalog.items and catalog.stock: one SKU per community, one level per outlet and item,
-- one movement per item version and per idempotency key, movements found by reference. Both engines.
CREATE UNIQUE INDEX catalog_item_community_sku ON catalog_item (community_id, sku);
-- statement
CREATE UNIQUE INDEX catalog_stock_level_outlet_item ON catalog_stock_level (outlet, item);
-- statement
CREATE UNIQUE INDEX catalog_stock_movement_outlet_item_version ON catalog_stock_movement (outlet, item, version);
-- statement
CREATE UNIQUE INDEX catalog_stock_movement_outlet_key ON catalog_stock_movement (outlet, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- statement
CREATE INDEX catalog_stock_movement_reference ON catalog_stock_movement (reference);
