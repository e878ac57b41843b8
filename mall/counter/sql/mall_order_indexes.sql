-- Mirrors mall.counter.checkout.checkout: one order per outlet key and per pay code. Both engines.
CREATE UNIQUE INDEX mall_order_outlet_key ON mall_order (outlet, idempotency_key);
-- statement
CREATE UNIQUE INDEX mall_order_code ON mall_order (code_ident) WHERE code_ident IS NOT NULL;
-- statement
CREATE INDEX mall_order_resident_at ON mall_order (resident, created_at);
-- statement
CREATE INDEX mall_order_user_at ON mall_order (user_id, created_at);
