-- Mirrors mall.earning.ratings (the table mall.tables.SubmissionRating describes): the filer's
-- rating of a resolved submission (闭环满意度), one per submission (the primary key).
CREATE TABLE mall_submission_rating (
    "submission" INTEGER PRIMARY KEY NOT NULL REFERENCES "mall_submission" ("id") ON DELETE RESTRICT,
    "community" INTEGER NOT NULL REFERENCES "mall_community" ("id") ON DELETE RESTRICT,
    "resident" INTEGER NOT NULL REFERENCES "mall_resident" ("id") ON DELETE RESTRICT,
    "stars" INTEGER NOT NULL CHECK ("stars" BETWEEN 1 AND 5),
    "comment" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ NOT NULL
);
-- statement
CREATE INDEX mall_submission_rating_community_at ON mall_submission_rating (community, created_at);
