-- Mirrors mall.counter.refunds (the tables mall.tables.Refund and RefundLine describe): a refund
-- of a whole order or of some of its lines, with its reason, journal and who gave it.
CREATE TABLE mall_refund (
    "id" SERIAL PRIMARY KEY,
    "order" BIGINT NOT NULL REFERENCES "mall_order" ("id") ON DELETE RESTRICT,
    "community" INTEGER NOT NULL REFERENCES "mall_community" ("id") ON DELETE RESTRICT,
    "points" INTEGER NOT NULL CHECK ("points" > 0),
    "reason" TEXT NOT NULL DEFAULT '',
    "journal_id" INTEGER NOT NULL,
    "user_id" INTEGER NULL REFERENCES "mall_user" ("id") ON DELETE RESTRICT,
    "created_at" TIMESTAMPTZ NOT NULL
);
-- statement
CREATE TABLE mall_refund_line (
    "id" SERIAL PRIMARY KEY,
    "refund" INTEGER NOT NULL REFERENCES "mall_refund" ("id") ON DELETE RESTRICT,
    "order_line" INTEGER NOT NULL REFERENCES "mall_order_line" ("id") ON DELETE RESTRICT,
    "quantity" INTEGER NOT NULL CHECK ("quantity" > 0)
);
-- statement
CREATE INDEX mall_refund_order ON mall_refund ("order");
-- statement
CREATE UNIQUE INDEX mall_refund_journal ON mall_refund (journal_id);
-- statement
CREATE INDEX mall_refund_community_at ON mall_refund (community, created_at);
-- statement
CREATE INDEX mall_refund_line_refund ON mall_refund_line (refund);
-- statement
CREATE INDEX mall_refund_line_order_line ON mall_refund_line (order_line);
