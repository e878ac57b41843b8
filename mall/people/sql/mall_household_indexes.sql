-- Mirrors mall.people.households: one address once per community. Both engines.
CREATE UNIQUE INDEX mall_household_address ON mall_household (community, address);
