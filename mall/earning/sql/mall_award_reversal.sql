-- Mirrors mall.earning.reversals: who reversed a posted award, when, why, by which ledger journal,
-- and the reverser's idempotency key (unique per reverser, so a retried reversal is one). Both engines.
ALTER TABLE mall_award ADD COLUMN reversed_by INTEGER NULL REFERENCES mall_user (id) ON DELETE RESTRICT;
-- statement
ALTER TABLE mall_award ADD COLUMN reversed_at TIMESTAMPTZ NULL;
-- statement
ALTER TABLE mall_award ADD COLUMN reversal_reason TEXT NOT NULL DEFAULT '';
-- statement
ALTER TABLE mall_award ADD COLUMN reversal_journal_id INTEGER NULL;
-- statement
ALTER TABLE mall_award ADD COLUMN reversal_key VARCHAR(200) NULL;
-- statement
ALTER TABLE mall_award ADD COLUMN reversal_hash VARCHAR(64) NULL;
-- statement
CREATE UNIQUE INDEX mall_award_reverser_key ON mall_award (reversed_by, reversal_key);
