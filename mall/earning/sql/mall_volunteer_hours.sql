-- Mirrors mall.earning.hours (volunteer hours in tenths of an hour): an activity's hours for each
-- attendee, and each attendee's own hours (corrected by staff, or written at settlement). Both engines.
ALTER TABLE mall_activity ADD COLUMN hours_tenths INTEGER NOT NULL DEFAULT 0;
-- statement
ALTER TABLE mall_signup ADD COLUMN hours_tenths INTEGER NULL;
-- statement
CREATE INDEX mall_activity_settled_idx ON mall_activity (community, settled_at);
