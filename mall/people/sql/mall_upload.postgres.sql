-- Mirrors mall.people.uploads (the table mall.tables.Upload describes): a spreadsheet a staff
-- member uploaded and previewed, kept until they confirm it (a browser cannot send a file twice
-- without JavaScript), for one hour.
CREATE TABLE mall_upload (
    "id" SERIAL PRIMARY KEY,
    "token" VARCHAR(64) NOT NULL,
    "kind" VARCHAR(20) NOT NULL,
    "community" INTEGER NOT NULL REFERENCES "mall_community" ("id") ON DELETE RESTRICT,
    "created_by" INTEGER NOT NULL REFERENCES "mall_user" ("id") ON DELETE RESTRICT,
    "filename" VARCHAR(200) NOT NULL,
    "data" BYTEA NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL
);
-- statement
CREATE UNIQUE INDEX mall_upload_token ON mall_upload (token);
-- statement
CREATE INDEX mall_upload_created_at ON mall_upload (created_at);
