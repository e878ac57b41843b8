-- Mirrors ledger.journals.post_journal's refusals (no_negative below zero, a zero posting):
-- PostgreSQL's last line of defence, as CHECK constraints.
ALTER TABLE ledger_account ADD CONSTRAINT ledger_account_no_negative
       CHECK (NOT no_negative OR balance >= 0);
-- statement
ALTER TABLE ledger_posting ADD CONSTRAINT ledger_posting_not_zero CHECK (amount <> 0);
