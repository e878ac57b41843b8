-- Mirrors mall.access.audit (the log of a community, newest first). Both engines.
CREATE INDEX mall_audit_community_at ON mall_audit (community, at);
