-- Mirrors mall.reports.ranking (set_opt_in): whether a resident appears, masked, on the
-- community's public ranking (积分榜); off until they opt in. Both engines.
ALTER TABLE mall_resident ADD COLUMN ranking_opt_in BOOLEAN NOT NULL DEFAULT FALSE;
