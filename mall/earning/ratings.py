"""Closing the loop (闭环): once staff resolve a submission, its filer rates how it was handled,
1 to 5 stars with an optional comment, once. Staff read the ratings beside each submission; the
statistics count them and average them by month (``mall.reports``).
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from mall import access, text
from mall import query as q
from mall import tables as t
from mall.access import Principal
from mall.db import Database
from mall.earning.submissions import RESOLVED, now
from mall.errors import N_, AlreadyRated, Invalid, NotFound

STARS = range(1, 6)
COMMENT_MAX = 500


class Rating(msgspec.Struct, frozen=True, kw_only=True):
    submission: int
    stars: int
    comment: str
    created_at: datetime


def _stars(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in STARS:
        raise Invalid(N_("Please choose from 1 to 5 stars."))
    return value


async def rate(
    db: Database, p: Principal | None, submission_id: int, stars: int, comment: str = ""
) -> Rating:
    """The filer rates their resolved submission, once: anyone else's submission is
    ``not_found``, one not yet resolved is ``validation_error``, a second rating is
    ``already_rated`` and changes nothing."""
    me = access.resident_self(p)
    stars = _stars(stars)
    comment = text.plain(
        comment,
        max_length=COMMENT_MAX,
        required=False,
        empty=N_("Please keep the comment under {n} characters."),
    )
    if not 0 < submission_id <= access.MAX_ID:
        raise NotFound()
    s, r = t.Submission, t.SubmissionRating
    async with db.transaction() as conn:
        row = await q.fetchrow(
            conn, s.select(s.id, s.community, s.resident, s.status).where(s.id == submission_id)
        )
        if row is None or row["resident"] != me.resident_id:
            raise NotFound()
        if row["status"] != RESOLVED:
            raise Invalid(N_("You can rate a submission once the community has resolved it."))
        at = now()
        written = await q.fetch(
            conn,
            r.insert(
                r(
                    submission=submission_id,
                    community=row["community"],
                    resident=me.resident_id,
                    stars=stars,
                    comment=comment,
                    created_at=at,
                )
            )
            .on_conflict(target=r.submission, action="DO NOTHING")
            .returning(r.submission),
        )
        if not written:
            raise AlreadyRated()
    return Rating(submission=submission_id, stars=stars, comment=comment, created_at=at)
