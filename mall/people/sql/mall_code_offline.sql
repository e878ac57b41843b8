-- Mirrors mall.people.offline_codes (an offline pay code's window start and its phone session) and mall.tables.Code. Both engines.
ALTER TABLE mall_code ADD COLUMN valid_from TIMESTAMPTZ NULL;
-- statement
ALTER TABLE mall_code ADD COLUMN session_id INTEGER NULL;
