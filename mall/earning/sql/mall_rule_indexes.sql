-- Mirrors mall.earning.rules: one rule code per community. Both engines.
CREATE UNIQUE INDEX mall_rule_community_code ON mall_rule (community, code);
