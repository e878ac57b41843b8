-- Mirrors mall.earning.activities: one sign-up per resident and activity. Both engines.
CREATE INDEX mall_activity_community_starts ON mall_activity (community, starts_at);
-- statement
CREATE UNIQUE INDEX mall_signup_activity_resident ON mall_signup (activity, resident);
