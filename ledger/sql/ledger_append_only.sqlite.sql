-- Mirrors ledger.journals (only INSERTs journals, postings, holds, resolutions): SQLite refuses
-- UPDATE and DELETE on them.
CREATE TRIGGER ledger_journal_no_update BEFORE UPDATE ON ledger_journal
        BEGIN SELECT RAISE(ABORT, 'ledger: ledger_journal is append-only'); END;
-- statement
CREATE TRIGGER ledger_journal_no_delete BEFORE DELETE ON ledger_journal
        BEGIN SELECT RAISE(ABORT, 'ledger: ledger_journal is append-only'); END;
-- statement
CREATE TRIGGER ledger_posting_no_update BEFORE UPDATE ON ledger_posting
        BEGIN SELECT RAISE(ABORT, 'ledger: ledger_posting is append-only'); END;
-- statement
CREATE TRIGGER ledger_posting_no_delete BEFORE DELETE ON ledger_posting
        BEGIN SELECT RAISE(ABORT, 'ledger: ledger_posting is append-only'); END;
-- statement
CREATE TRIGGER ledger_hold_no_update BEFORE UPDATE ON ledger_hold
        BEGIN SELECT RAISE(ABORT, 'ledger: ledger_hold is append-only'); END;
-- statement
CREATE TRIGGER ledger_hold_no_delete BEFORE DELETE ON ledger_hold
        BEGIN SELECT RAISE(ABORT, 'ledger: ledger_hold is append-only'); END;
-- statement
CREATE TRIGGER ledger_hold_resolution_no_update BEFORE UPDATE ON ledger_hold_resolution
        BEGIN SELECT RAISE(ABORT, 'ledger: ledger_hold_resolution is append-only'); END;
-- statement
CREATE TRIGGER ledger_hold_resolution_no_delete BEFORE DELETE ON ledger_hold_resolution
        BEGIN SELECT RAISE(ABORT, 'ledger: ledger_hold_resolution is append-only'); END;
