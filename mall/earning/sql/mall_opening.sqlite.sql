-- Mirrors mall.earning.openings (the tables mall.tables.OpeningBatch, OpeningLine and
-- OpeningGiven describe): opening balances (期初积分) from the paper passbooks, a batch uploaded
-- by one staff member and posted when a different one approves it; once per resident ever.
CREATE TABLE mall_opening_batch (
    "id" INTEGER PRIMARY KEY NOT NULL,
    "community" INTEGER NOT NULL REFERENCES "mall_community" ("id") ON DELETE RESTRICT,
    "status" VARCHAR(20) NOT NULL,
    "filename" VARCHAR(200) NOT NULL DEFAULT '',
    "residents" INTEGER NOT NULL,
    "total" INTEGER NOT NULL,
    "created_by" INTEGER NOT NULL REFERENCES "mall_user" ("id") ON DELETE RESTRICT,
    "created_at" TIMESTAMPTZ NOT NULL,
    "decided_by" INTEGER NULL REFERENCES "mall_user" ("id") ON DELETE RESTRICT,
    "decided_at" TIMESTAMPTZ NULL,
    "reason" TEXT NOT NULL DEFAULT ''
);
-- statement
CREATE INDEX mall_opening_batch_community ON mall_opening_batch (community, status, id);
-- statement
CREATE TABLE mall_opening_line (
    "id" INTEGER PRIMARY KEY NOT NULL,
    "batch" INTEGER NOT NULL REFERENCES "mall_opening_batch" ("id") ON DELETE RESTRICT,
    "sheet_row" INTEGER NOT NULL,
    "resident" INTEGER NOT NULL REFERENCES "mall_resident" ("id") ON DELETE RESTRICT,
    "passbook" VARCHAR(40) NOT NULL,
    "points" INTEGER NOT NULL,
    "journal_id" INTEGER NULL
);
-- statement
CREATE INDEX mall_opening_line_batch ON mall_opening_line (batch, id);
-- statement
CREATE INDEX mall_opening_line_resident ON mall_opening_line (resident);
-- statement
CREATE TABLE mall_opening_given (
    "resident" INTEGER PRIMARY KEY NOT NULL REFERENCES "mall_resident" ("id") ON DELETE RESTRICT,
    "line" INTEGER NOT NULL REFERENCES "mall_opening_line" ("id") ON DELETE RESTRICT
);
