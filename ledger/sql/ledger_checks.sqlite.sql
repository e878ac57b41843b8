-- Mirrors ledger.journals.post_journal's refusals (no_negative below zero, a zero posting):
-- SQLite's last line of defence, as triggers (SQLite cannot add a CHECK to a table).
CREATE TRIGGER ledger_account_no_negative BEFORE UPDATE ON ledger_account
       WHEN NEW.no_negative AND NEW.balance < 0
       BEGIN SELECT RAISE(ABORT, 'ledger: no_negative account below zero'); END;
-- statement
CREATE TRIGGER ledger_posting_not_zero BEFORE INSERT ON ledger_posting
       WHEN NEW.amount = 0
       BEGIN SELECT RAISE(ABORT, 'ledger: posting amount is zero'); END;
