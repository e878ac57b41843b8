"""The statistics as the reader sees them: each figure a titled table (a label column, then
numbers), in the reader's language. The pages draw a chart of each beside its table; the
monthly workbook writes each as a sheet. Only wording and layout here: the figures come from
``mall.reports.stats``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mall.errors import N_
from mall.reports import stats
from web.i18n import gettext as _
from web.pages.rules import PATH_WORDS
from web.pages.submissions import KIND_WORDS, STATUS_WORDS

Value = int | float | str | None


@dataclass(frozen=True)
class Section:
    key: str
    """A stable name (the workbook's sheet order, tests)."""
    title: str
    columns: list[str]
    """The label column's heading, then one heading per value column."""
    rows: Sequence[tuple[str, Sequence[Value]]] = ()
    charted: bool = True
    """Whether the first value column is drawn as a chart."""


def coverage_text(coverage: float | None) -> str:
    return "—" if coverage is None else f"{coverage:.2f}"


def overview(f: stats.Figures) -> Section:
    return Section(
        "points",
        _("Points in these days"),
        [_("Figure"), _("Points")],
        [
            (_("Issued"), [f.issued]),
            (_("Reversed"), [f.reversed]),
            (_("Redeemed"), [f.redeemed]),
            (_("Refunded"), [f.refunded]),
        ],
    )


def sections(report: stats.Report) -> list[Section]:
    """Every figure of ``report`` as a section, in the order the page shows them."""
    f = report.figures
    return [
        overview(f),
        Section(
            "people",
            _("Residents"),
            [_("Figure"), _("People")],
            [
                (_("Residents now"), [f.residents]),
                (_("Earned points in these days"), [f.earners]),
                (_("Redeemed in these days"), [f.redeemers]),
            ],
        ),
        Section(
            "coverage",
            _("Points held and goods on the shelves"),
            [_("Figure"), _("Points")],
            [
                (_("Held by residents now"), [f.outstanding]),
                (_("Goods on the shelves now, in points"), [f.stock_value]),
            ],
        ),
        Section(
            "paths",
            _("Points issued by path"),
            [_("Path"), _("Points")],
            [(_(word), [getattr(f.issued_by_path, path)]) for path, word in PATH_WORDS.items()],
        ),
        Section(
            "rules",
            _("Points issued by rule"),
            [_("Rule"), _("Points")],
            [(r.name, [r.points]) for r in report.by_rule],
        ),
        Section(
            "grids",
            _("Points issued by grid"),
            [_("Grid"), _("Points")],
            [
                (g.name or (g.code if g.code != stats.NO_GRID else _("No grid")), [g.points])
                for g in report.by_grid
            ],
        ),
        Section(
            "months",
            _("Points issued by month"),
            [_("Month"), _("Points"), _("Volunteer hours")],
            [(m.month, [m.points, m.volunteer_hours]) for m in report.by_month],
        ),
        Section(
            "goods",
            _("Top goods"),
            [_("Goods"), _("Points"), _("Quantity")],
            [(g.name, [g.points, g.quantity]) for g in report.top_goods],
        ),
        Section(
            "volunteering",
            _("Volunteer activities"),
            [_("Figure"), _("Count")],
            [
                (_("Activities held"), [report.volunteering.activities]),
                (_("Sign-ups"), [report.volunteering.signups]),
                (_("Check-ins"), [report.volunteering.checkins]),
                (_("Volunteer hours"), [f.volunteer_hours]),
            ],
        ),
        Section(
            "hours",
            _("Volunteer hours by path"),
            [_("Path"), _("Hours")],
            [(_(word), [f.volunteer_hours_by_path[path]]) for path, word in PATH_WORDS.items()],
        ),
        Section(
            "submission-kinds",
            _("Submissions by kind"),
            [_("Kind"), _("Count")],
            [(_(KIND_WORDS[k]), [n]) for k, n in report.submissions.by_kind.items()],
        ),
        Section(
            "submission-statuses",
            _("Submissions by status"),
            [_("Status"), _("Count")],
            [(_(STATUS_WORDS[s]), [n]) for s, n in report.submissions.by_status.items()]
            + [(_("Past the due date"), [report.submissions.overdue])],
        ),
        Section(
            "ratings",
            _("Residents' ratings of resolved submissions"),
            [_("Month"), _("Ratings"), _("Average rating")],
            [(m.month, [m.ratings, m.average]) for m in report.ratings_by_month]
            + [(_("All these days"), [f.ratings, f.average_rating])],
        ),
    ]


#: the API's figures as the workbook's first sheet names them, in order
FIGURE_WORDS = {
    "issued": N_("Issued"),
    "timely_help": N_("Timely help"),
    "adding_to_good": N_("Adding to good"),
    "settling_disputes": N_("Settling disputes"),
    "reversed": N_("Reversed"),
    "redeemed": N_("Redeemed"),
    "refunded": N_("Refunded"),
    "earners": N_("Earned points in these days"),
    "redeemers": N_("Redeemed in these days"),
    "residents": N_("Residents now"),
    "outstanding": N_("Held by residents now"),
    "stock_value": N_("Goods on the shelves now, in points"),
    "coverage": N_("Coverage (goods ÷ points held)"),
    "ratings": N_("Ratings"),
    "average_rating": N_("Average rating"),
    "volunteer_hours": N_("Volunteer hours"),
}


def figure_values(f: stats.Figures) -> list[Value]:
    """``FIGURE_WORDS``'s figures of ``f``, in order."""
    by_path = f.issued_by_path
    return [
        f.issued,
        by_path.timely_help,
        by_path.adding_to_good,
        by_path.settling_disputes,
        f.reversed,
        f.redeemed,
        f.refunded,
        f.earners,
        f.redeemers,
        f.residents,
        f.outstanding,
        f.stock_value,
        f.coverage,
        f.ratings,
        f.average_rating,
        f.volunteer_hours,
    ]
