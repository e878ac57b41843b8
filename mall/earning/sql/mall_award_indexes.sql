-- Mirrors mall.earning.awards: one award per maker's key, one line per resident. Both engines.
CREATE UNIQUE INDEX mall_award_maker_key ON mall_award (created_by, idempotency_key);
-- statement
CREATE INDEX mall_award_community_status ON mall_award (community, status);
-- statement
CREATE UNIQUE INDEX mall_award_line_award_resident ON mall_award_line (award, resident);
-- statement
CREATE INDEX mall_award_line_resident_at ON mall_award_line (resident, created_at);
