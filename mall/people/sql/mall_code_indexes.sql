-- Mirrors mall.people.credentials and mall.counter (a resident's codes; expired codes swept). Both engines.
CREATE INDEX mall_code_resident_kind ON mall_code (resident, kind);
-- statement
CREATE INDEX mall_code_kind_expires ON mall_code (kind, expires_at);
