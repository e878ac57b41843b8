-- Mirrors mall.access.audit (only INSERTs audit entries): PostgreSQL refuses UPDATE, DELETE, TRUNCATE
-- (with the ledger's ledger_refuse_change, installed by the ledger app before).
CREATE TRIGGER mall_audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON mall_audit
       FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
