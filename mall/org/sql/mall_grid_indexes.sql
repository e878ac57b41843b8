-- Mirrors mall.org.communities (grids): one grid code per community. Both engines.
CREATE UNIQUE INDEX mall_grid_community_code ON mall_grid (community, code);
