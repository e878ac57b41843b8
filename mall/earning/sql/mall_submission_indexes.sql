-- Mirrors mall.earning.submissions: one deadline per kind, the due list. Both engines.
CREATE UNIQUE INDEX mall_submission_deadline_kind ON mall_submission_deadline (community, kind);
-- statement
CREATE INDEX mall_submission_community_status_due ON mall_submission (community, status, due_at);
