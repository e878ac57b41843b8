-- Mirrors mall.org.policy (expiry, expiry_months): when a community's points expire. Both engines.
ALTER TABLE mall_community ADD COLUMN expiry VARCHAR(10) NOT NULL DEFAULT 'never';
-- statement
ALTER TABLE mall_community ADD COLUMN expiry_months INTEGER NOT NULL DEFAULT 12;
