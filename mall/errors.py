"""The community domain's errors. Each carries an English message id (translated by the web layer
through the gettext catalogues) and the API ``code`` it maps to.

    MallError
     ├── Invalid            validation_error (400)
     ├── Unauthenticated    unauthenticated (401)
     ├── Forbidden          forbidden (403)
     ├── NotFound           not_found (404)
     ├── AlreadyExists      already_exists (409)
 │    └── AlreadyRated  already_rated (409)
     ├── RateLimited        rate_limited (429)
     ├── CodeInvalid        code_invalid (400)
     ├── CodeExpired        code_expired (410)
     ├── CodeUsed           code_used (409)
     ├── BudgetExhausted    budget_exhausted (409)
     ├── CapExceeded        cap_exceeded (409)
     ├── AlreadyCheckedIn   already_checked_in (409)
     ├── InsufficientPoints insufficient_points (409)
     ├── OutOfStock         out_of_stock (409)
     ├── LimitExceeded      limit_exceeded (409)
     ├── AlreadyRefunded    already_refunded (409)
     ├── SelfDealing        self_dealing (403)
     ├── AccountClosed      account_closed (410)
     ├── AlreadyReversed    already_reversed (409)
     ├── ObjectionClosed    objection_closed (409)
     └── CardPending        card_pending (409)
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Marks a message id for extraction into the catalogues; translated where it is shown."""
    return message


class MallError(Exception):
    code = "error"
    status = 400
    message = N_("Something is wrong with this request.")

    def __init__(self, message: str | None = None, **params: Any) -> None:
        self.message = message or self.message
        self.params = params
        super().__init__(self.message.format(**params) if params else self.message)


class Invalid(MallError):
    code, status = "validation_error", 400
    message = N_("Please check what you entered.")


class Unauthenticated(MallError):
    code, status = "unauthenticated", 401
    message = N_("Please sign in first.")


class Forbidden(MallError):
    code, status = "forbidden", 403
    message = N_("You are not allowed to do this.")


class NotFound(MallError):
    code, status = "not_found", 404
    message = N_("Not found.")


class AlreadyExists(MallError):
    code, status = "already_exists", 409
    message = N_("This already exists.")


class RateLimited(MallError):
    code, status = "rate_limited", 429
    message = N_("Too many attempts. Please wait a few minutes and try again.")


class CodeInvalid(MallError):
    code, status = "code_invalid", 400
    message = N_("This code is not valid.")


class CodeExpired(MallError):
    code, status = "code_expired", 410
    message = N_("This code has expired. Please show a new one.")


class CodeUsed(MallError):
    code, status = "code_used", 409
    message = N_("This code has already been used.")


class BudgetExhausted(MallError):
    code, status = "budget_exhausted", 409
    message = N_("The community's points budget does not cover this award.")


class CapExceeded(MallError):
    code, status = "cap_exceeded", 409
    message = N_("This would pass the rule's limit for this resident.")


class AlreadyCheckedIn(MallError):
    code, status = "already_checked_in", 409
    message = N_("Already checked in.")


class InsufficientPoints(MallError):
    code, status = "insufficient_points", 409
    message = N_("Not enough points.")


class OutOfStock(MallError):
    code, status = "out_of_stock", 409
    message = N_("Out of stock.")


class LimitExceeded(MallError):
    code, status = "limit_exceeded", 409
    message = N_("This would pass the monthly limit for this item.")


class AlreadyRefunded(MallError):
    code, status = "already_refunded", 409
    message = N_("This order has already been refunded.")


class SelfDealing(MallError):
    """A user acting on their own resident record: awarding, approving, settling, reversing,
    refunding, merging into or issuing a card for themselves."""

    code, status = "self_dealing", 403
    message = N_("You cannot do this for your own resident record; ask another staff member.")


class AccountClosed(MallError):
    """The resident's record was closed (moved away, deceased or merged into another)."""

    code, status = "account_closed", 410
    message = N_("This resident's record is closed.")


class AlreadyReversed(MallError):
    code, status = "already_reversed", 409
    message = N_("This award has already been reversed.")


class ObjectionClosed(MallError):
    """An objection to a notice entry after its window (the policy's ``objection_days``) closed."""

    code, status = "objection_closed", 409
    message = N_("The time to object to this entry has passed.")


class CardPending(MallError):
    """A printed card issued while its resident held points, not yet approved by a second staff
    member: it pays for nothing, at the counter or anywhere else."""

    code, status = "card_pending", 409
    message = N_(
        "This card is waiting for another staff member's approval. "
        "Please ask community staff to approve it."
    )


class AlreadyRated(AlreadyExists):
    """A second rating of the same resolved submission: the first one stands (issue #20)."""

    code, status = "already_rated", 409
    message = N_("You have already rated this. Thank you!")
