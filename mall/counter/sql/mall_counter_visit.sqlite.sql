-- Mirrors mall.counter.visits (the table mall.tables.CounterVisit describes): what a scan at the
-- counter found, under a random token that the page after the scan carries in its URL instead of
-- the code (post/redirect/get); only the user who scanned opens it, for a few hours.
CREATE TABLE mall_counter_visit (
    "id" INTEGER PRIMARY KEY NOT NULL,
    "token" VARCHAR(64) NOT NULL,
    "community" INTEGER NOT NULL REFERENCES "mall_community" ("id") ON DELETE RESTRICT,
    "outlet" INTEGER NOT NULL REFERENCES "catalog_outlet" ("id") ON DELETE RESTRICT,
    "created_by" INTEGER NOT NULL REFERENCES "mall_user" ("id") ON DELETE RESTRICT,
    "card" INTEGER NULL REFERENCES "mall_code" ("id") ON DELETE CASCADE,
    "pay" INTEGER NULL REFERENCES "mall_code" ("id") ON DELETE CASCADE,
    "problem" TEXT NOT NULL DEFAULT '',
    "chosen" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ NOT NULL
);
-- statement
CREATE UNIQUE INDEX mall_counter_visit_token ON mall_counter_visit (token);
-- statement
CREATE INDEX mall_counter_visit_created_at ON mall_counter_visit (created_at);
