-- Mirrors mall.org.policy (expiry, expiry_months, expiry_since): when a community's points expire,
-- and since when that rule holds (points earned before count as earned then). Both engines.
ALTER TABLE mall_community ADD COLUMN expiry VARCHAR(10) NOT NULL DEFAULT 'never';
-- statement
ALTER TABLE mall_community ADD COLUMN expiry_months INTEGER NOT NULL DEFAULT 12;
-- statement
ALTER TABLE mall_community ADD COLUMN expiry_since TIMESTAMPTZ NULL;
