"""The ledger's errors. The web layer maps each to an API error code in one place.

LedgerError
 ├── InvalidJournal          the request itself is wrong (unbalanced, zero amount, ...)
 ├── AccountNotFound
 ├── JournalNotFound
 ├── HoldNotFound
 ├── InsufficientFunds       a no_negative account would go below zero
 ├── IdempotencyKeyReused    the key was used before with a different request
 ├── AlreadyReversed
 ├── NotReversible
 └── HoldAlreadyResolved
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""


class InvalidJournal(LedgerError):
    pass


class AccountNotFound(LedgerError):
    def __init__(self, code: str) -> None:
        super().__init__(f"no account {code!r} in this book")
        self.code = code


class JournalNotFound(LedgerError):
    pass


class HoldNotFound(LedgerError):
    pass


class InsufficientFunds(LedgerError):
    def __init__(self, account: str, balance: int, amount: int) -> None:
        super().__init__(f"account {account!r} has {balance}, cannot take {amount}")
        self.account, self.balance, self.amount = account, balance, amount


class IdempotencyKeyReused(LedgerError):
    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was used with a different request")
        self.key = key


class AlreadyReversed(LedgerError):
    pass


class NotReversible(LedgerError):
    pass


class HoldAlreadyResolved(LedgerError):
    pass
