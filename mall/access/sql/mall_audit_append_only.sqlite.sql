-- Mirrors mall.access.audit (only INSERTs audit entries): SQLite refuses UPDATE and DELETE on mall_audit.
CREATE TRIGGER mall_audit_no_update BEFORE UPDATE ON mall_audit
        BEGIN SELECT RAISE(ABORT, 'mall_audit is append-only'); END;
-- statement
CREATE TRIGGER mall_audit_no_delete BEFORE DELETE ON mall_audit
        BEGIN SELECT RAISE(ABORT, 'mall_audit is append-only'); END;
