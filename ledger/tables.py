"""The ledger's tables: books, accounts, journals, postings, holds and their resolutions.

Journals, postings and holds are append-only (database triggers refuse UPDATE and DELETE);
only an account's cached balance, version and last hash ever change.
"""

from piccolo.columns import (
    BigInt,
    BigSerial,
    Boolean,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table


class Book(Table, tablename="ledger_book"):
    """One set of accounts, one per community."""

    id = Serial(primary_key=True)
    code = Varchar(length=64, unique=True, null=False)
    name = Varchar(length=200, null=False)
    created_at = Timestamptz(null=False)


class Account(Table, tablename="ledger_account"):
    """A balance that postings move. ``code`` is unique within its book."""

    id = Serial(primary_key=True)
    book = ForeignKey(Book, on_delete=OnDelete.restrict, null=False, index=True)
    code = Varchar(length=100, null=False)
    no_negative = Boolean(default=False, null=False)
    balance = BigInt(default=0, null=False)
    version = Integer(default=0, null=False)
    last_hash = Varchar(length=64, default="", null=False)
    created_at = Timestamptz(null=False)


class Journal(Table, tablename="ledger_journal"):
    """One business event; its postings sum to zero."""

    id = BigSerial(primary_key=True)

    book = ForeignKey(Book, on_delete=OnDelete.restrict, null=False)  # (book, key) indexes it
    kind = Varchar(length=40, null=False)
    path = Varchar(length=40, null=True, default=None)
    memo = Text(default="", null=False)
    idempotency_key = Varchar(length=200, null=False)  # unique per book (migration)
    request_hash = Varchar(length=64, null=False)
    reverses: ForeignKey["Journal"] = ForeignKey(
        "self", on_delete=OnDelete.restrict, null=True, unique=True
    )
    created_at = Timestamptz(null=False)


class Posting(Table, tablename="ledger_posting"):
    """One leg of a journal: a signed, non-zero amount on one account, chained per account."""

    id = BigSerial(primary_key=True)

    journal = ForeignKey(Journal, on_delete=OnDelete.restrict, null=False, index=True)
    account = ForeignKey(Account, on_delete=OnDelete.restrict, null=False)
    amount = BigInt(null=False)
    version = Integer(null=False)
    balance_after = BigInt(null=False)
    hash = Varchar(length=64, null=False)


class Hold(Table, tablename="ledger_hold"):
    """Points moved from an account into ``holds`` until captured, released or lapsed."""

    id = Serial(primary_key=True)
    book = ForeignKey(Book, on_delete=OnDelete.restrict, null=False, index=True)
    journal = ForeignKey(Journal, on_delete=OnDelete.restrict, null=False, unique=True)
    account = ForeignKey(Account, on_delete=OnDelete.restrict, null=False, index=True)
    amount = BigInt(null=False)
    expires_at = Timestamptz(null=False)


class HoldResolution(Table, tablename="ledger_hold_resolution"):
    """How a hold ended: captured, released or lapsed. Unique per hold, so at most once."""

    id = Serial(primary_key=True)
    hold = ForeignKey(Hold, on_delete=OnDelete.restrict, null=False, unique=True)
    journal = ForeignKey(Journal, on_delete=OnDelete.restrict, null=False, unique=True)
    outcome = Varchar(length=20, null=False)
