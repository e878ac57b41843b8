-- Mirrors mall.reports.objections (the table mall.tables.Objection describes): a resident's
-- objection to one line of the public notice, one per resident and line, and its decision.
CREATE TABLE mall_objection (
    "id" SERIAL PRIMARY KEY,
    "community" INTEGER NOT NULL REFERENCES "mall_community" ("id") ON DELETE RESTRICT,
    "award_line" INTEGER NOT NULL REFERENCES "mall_award_line" ("id") ON DELETE RESTRICT,
    "resident" INTEGER NOT NULL REFERENCES "mall_resident" ("id") ON DELETE RESTRICT,
    "reason" TEXT NOT NULL,
    "status" VARCHAR(20) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "due_at" TIMESTAMPTZ NOT NULL,
    "decided_by" INTEGER NULL REFERENCES "mall_user" ("id") ON DELETE RESTRICT,
    "decided_at" TIMESTAMPTZ NULL,
    "reply" TEXT NOT NULL DEFAULT ''
);
-- statement
CREATE UNIQUE INDEX mall_objection_line_resident ON mall_objection (award_line, resident);
-- statement
CREATE INDEX mall_objection_community_status ON mall_objection (community, status, due_at);
-- statement
CREATE INDEX mall_objection_resident ON mall_objection (resident, id);
-- statement
CREATE INDEX mall_award_community_posted ON mall_award (community, status, decided_at, created_at);
