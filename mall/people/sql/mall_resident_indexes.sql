-- Mirrors mall.people.residents (search by name within a community). Both engines.
CREATE INDEX mall_resident_community_name ON mall_resident (community, name);
