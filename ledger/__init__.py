"""The points ledger (积分账本): double-entry, integer points, append-only, hash-chained.

It knows books, accounts, journals, postings and holds; never residents, goods or HTTP.
Every function takes a connection already inside a transaction (see ``ledger.connection``).
"""

from ledger.connection import Connection, Row
from ledger.errors import (
    AccountNotFound,
    AlreadyReversed,
    HoldAlreadyResolved,
    HoldNotFound,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidJournal,
    JournalNotFound,
    LedgerError,
    NotReversible,
)
from ledger.flows import Credit, Flows, account_flows, accounts_holding
from ledger.holds import (
    HOLDS_ACCOUNT,
    Hold,
    capture_hold,
    get_hold,
    held_amount,
    lapse_holds,
    open_holds,
    place_hold,
    release_hold,
)
from ledger.journals import (
    Journal,
    Posting,
    find_journal,
    get_journal,
    open_account,
    open_book,
    post_journal,
    request_hash,
    reverse_journal,
)
from ledger.reading import PostingLine, balances, postings
from ledger.statement import Balance, Entry, Statement, get_balance, get_statement, total_balance
from ledger.verify import Problem, Report, verify_ledger

__all__ = [
    "HOLDS_ACCOUNT",
    "AccountNotFound",
    "AlreadyReversed",
    "Balance",
    "Connection",
    "Credit",
    "Entry",
    "Flows",
    "Hold",
    "HoldAlreadyResolved",
    "HoldNotFound",
    "IdempotencyKeyReused",
    "InsufficientFunds",
    "InvalidJournal",
    "Journal",
    "JournalNotFound",
    "LedgerError",
    "NotReversible",
    "Posting",
    "PostingLine",
    "Problem",
    "Report",
    "Row",
    "Statement",
    "balances",
    "account_flows",
    "accounts_holding",
    "capture_hold",
    "find_journal",
    "get_balance",
    "get_hold",
    "get_journal",
    "get_statement",
    "held_amount",
    "lapse_holds",
    "open_account",
    "open_book",
    "open_holds",
    "place_hold",
    "post_journal",
    "postings",
    "release_hold",
    "request_hash",
    "reverse_journal",
    "total_balance",
    "verify_ledger",
]
