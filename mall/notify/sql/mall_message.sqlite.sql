-- Mirrors mall.notify (the tables mall.tables.Announcement and mall.tables.Message describe):
-- staff's announcements (通知公告) and each resident's inbox (消息). A message with a ``key``
-- is written once per resident and key (a reminder that housekeeping may try twice at once).
CREATE TABLE mall_announcement (
    "id" INTEGER PRIMARY KEY NOT NULL,
    "community" INTEGER NOT NULL REFERENCES "mall_community" ("id") ON DELETE RESTRICT,
    "grid" INTEGER NULL REFERENCES "mall_grid" ("id") ON DELETE RESTRICT,
    "building" VARCHAR(20) NULL,
    "title" VARCHAR(100) NOT NULL,
    "body" TEXT NOT NULL,
    "created_by" INTEGER NULL REFERENCES "mall_user" ("id") ON DELETE RESTRICT,
    "created_at" TIMESTAMPTZ NOT NULL,
    "recipients" INTEGER NOT NULL DEFAULT 0
);
-- statement
CREATE INDEX mall_announcement_community ON mall_announcement (community, id);
-- statement
CREATE TABLE mall_message (
    "id" INTEGER PRIMARY KEY NOT NULL,
    "community" INTEGER NOT NULL REFERENCES "mall_community" ("id") ON DELETE RESTRICT,
    "resident" INTEGER NOT NULL REFERENCES "mall_resident" ("id") ON DELETE RESTRICT,
    "kind" VARCHAR(30) NOT NULL,
    "title" VARCHAR(200) NOT NULL,
    "body" TEXT NOT NULL,
    "params" TEXT NOT NULL DEFAULT '{}',
    "key" VARCHAR(100) NULL,
    "announcement" INTEGER NULL REFERENCES "mall_announcement" ("id") ON DELETE RESTRICT,
    "created_at" TIMESTAMPTZ NOT NULL,
    "read_at" TIMESTAMPTZ NULL,
    "sent_at" TIMESTAMPTZ NULL
);
-- statement
CREATE INDEX mall_message_resident ON mall_message (resident, id);
-- statement
CREATE UNIQUE INDEX mall_message_resident_key ON mall_message (resident, key);
