-- Mirrors mall.org.policy (star1_hours .. star5_hours): the hours of volunteer service for each
-- star level (星级志愿者), by default the national scheme's 100/300/600/1000/1500. Both engines.
ALTER TABLE mall_community ADD COLUMN star1_hours INTEGER NOT NULL DEFAULT 100;
-- statement
ALTER TABLE mall_community ADD COLUMN star2_hours INTEGER NOT NULL DEFAULT 300;
-- statement
ALTER TABLE mall_community ADD COLUMN star3_hours INTEGER NOT NULL DEFAULT 600;
-- statement
ALTER TABLE mall_community ADD COLUMN star4_hours INTEGER NOT NULL DEFAULT 1000;
-- statement
ALTER TABLE mall_community ADD COLUMN star5_hours INTEGER NOT NULL DEFAULT 1500;
