-- Mirrors ledger.journals (open_account, post_journal): one code per book, one idempotency key
-- per book, one posting per account version. Both engines.
CREATE UNIQUE INDEX ledger_account_book_code ON ledger_account (book, code);
-- statement
CREATE UNIQUE INDEX ledger_journal_book_key ON ledger_journal (book, idempotency_key);
-- statement
CREATE UNIQUE INDEX ledger_posting_account_version ON ledger_posting (account, version);
