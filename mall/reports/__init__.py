"""Reports (公示与报表): the public notice board of a community's awards, with masked names, and
residents' objections to it, which staff uphold (reversing the award) or dismiss; the
statistics (统计) of a community and the street, and the monthly workbook (月报); exports of a
community's tables as CSV and XLSX (导出), the partner merchants' monthly settlement, the
donors' thank-you page (``donors``, 爱心榜), read from the catalog, and the residents' ranking by
points and volunteer hours with star levels (``ranking``, 积分榜), of those who opted in.

Builds on ``mall.earning`` (awards and their reversal), ``mall.org`` and ``mall.access``; no
capability below imports it.
"""

__all__ = [
    "cells",
    "exports",
    "notice",
    "objections",
    "settlement",
    "stats",
    "tallies",
    "workbook",
    "writers",
    "donors",
    "ranking",
]
