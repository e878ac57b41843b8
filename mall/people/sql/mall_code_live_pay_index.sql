-- Mirrors mall.people.credentials.KEEP_LIVE_PAY_CODES: a phone's live pay codes, so that keeping at most three reads those few rows, not every code of the day. Both engines.
CREATE INDEX IF NOT EXISTS mall_code_live_pay ON mall_code (resident, id)
    WHERE kind = 'pay' AND created_by IS NULL AND used_at IS NULL AND revoked_at IS NULL;
