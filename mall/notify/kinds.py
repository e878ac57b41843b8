"""The kinds of message a resident's inbox holds, and their words: English message ids with
``{name}`` fields filled from the message's ``params`` when shown (in the reader's language), so
an SMS or WeChat template sender can map a kind to its own template and pass the same params.

An announcement is staff's own words: its title and body are shown as written, never translated
or formatted.
"""

from __future__ import annotations

from typing import Final

from mall.errors import N_

ANNOUNCEMENT: Final = "announcement"
POINTS_RECEIVED: Final = "points_received"
POINTS_REVERSED: Final = "points_reversed"
RESERVATION_READY: Final = "reservation_ready"
RESERVATION_LAPSING: Final = "reservation_lapsing"
RESERVATION_LAPSED: Final = "reservation_lapsed"
SUBMISSION_ACCEPTED: Final = "submission_accepted"
SUBMISSION_RESOLVED: Final = "submission_resolved"
SUBMISSION_REJECTED: Final = "submission_rejected"
OBJECTION_UPHELD: Final = "objection_upheld"
OBJECTION_DISMISSED: Final = "objection_dismissed"
POINTS_EXPIRING: Final = "points_expiring"
ACTIVITY_CANCELLED: Final = "activity_cancelled"

#: kind → (title, body): message ids, and the params each body takes
WORDS: Final[dict[str, tuple[str, str]]] = {
    POINTS_RECEIVED: (N_("Points received"), N_("{points} points for: {memo}")),
    POINTS_REVERSED: (N_("Points taken back"), N_("{points} points were taken back: {reason}")),
    RESERVATION_READY: (
        N_("Your reservation is ready"),
        N_("Collect it at {outlet} by {until}. {points} points are set aside for it."),
    ),
    RESERVATION_LAPSING: (
        N_("Your reservation ends soon"),
        N_("Please collect it at {outlet} by {until}, or the goods go back on the shelf."),
    ),
    RESERVATION_LAPSED: (
        N_("Your reservation has ended"),
        N_("It was not collected in time; the {points} points are yours to use again."),
    ),
    SUBMISSION_ACCEPTED: (
        N_("Your submission was accepted"),
        N_("“{title}” was accepted. {reason}"),
    ),
    SUBMISSION_RESOLVED: (
        N_("Your submission is resolved"),
        N_("“{title}” is resolved. {reason} Please rate how it was handled."),
    ),
    SUBMISSION_REJECTED: (
        N_("Your submission was not accepted"),
        N_("“{title}” was not accepted. Reason: {reason}"),
    ),
    OBJECTION_UPHELD: (
        N_("Your objection was upheld"),
        N_("The award was reversed. Reply: {reply}"),
    ),
    OBJECTION_DISMISSED: (
        N_("Your objection was answered"),
        N_("The award stays. Reply: {reply}"),
    ),
    POINTS_EXPIRING: (
        N_("Points about to expire"),
        N_("{points} points expire after {on}. Use them before then."),
    ),
    ACTIVITY_CANCELLED: (
        N_("An activity was cancelled"),
        N_("“{title}” ({on}) is cancelled: {reason} No need to come."),
    ),
}

KINDS: Final = (ANNOUNCEMENT, *WORDS)
