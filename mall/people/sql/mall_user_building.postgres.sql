-- Mirrors mall.people.users (the buildings a building head serves, mall.tables.UserBuilding):
-- one row per building head and building (楼栋), as the residents' ``building`` spells it. PostgreSQL.
CREATE TABLE mall_user_building (
    "id" SERIAL PRIMARY KEY,
    "user_id" INTEGER NOT NULL REFERENCES "mall_user" ("id") ON DELETE RESTRICT,
    "building" VARCHAR(20) NOT NULL
);
-- statement
CREATE UNIQUE INDEX mall_user_building_user_building ON mall_user_building (user_id, building);
