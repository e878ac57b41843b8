-- Mirrors ledger.journals (only INSERTs journals, postings, holds, resolutions): PostgreSQL
-- refuses UPDATE, DELETE and TRUNCATE on them (ledger_refuse_change, also used by mall_audit).
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'ledger: % is append-only', TG_TABLE_NAME; END $$;
-- statement
CREATE TRIGGER ledger_journal_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_journal
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
-- statement
CREATE TRIGGER ledger_posting_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_posting
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
-- statement
CREATE TRIGGER ledger_hold_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_hold
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
-- statement
CREATE TRIGGER ledger_hold_resolution_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_hold_resolution
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
