-- Mirrors mall.people.credentials.new_pay_code (its SQLite path inserts the same row). PostgreSQL only.
CREATE OR REPLACE FUNCTION mall_new_pay_code(
    p_ident text, p_resident bigint, p_at timestamptz, p_expires timestamptz
) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- a pay code lives a minute and the phone fetches another at will: its commit need not wait
    -- for the disk (a checkout that uses it flushes it first, its own commit coming later)
    PERFORM set_config('synchronous_commit', 'off', true);
    INSERT INTO mall_code (kind, ident, resident, created_at, expires_at, pin_hash, failed_pins,
                           created_by)
    VALUES ('pay', p_ident, p_resident, p_at, p_expires, NULL, 0, NULL);
    -- at most three live codes from the phone (mall.people.credentials.MAX_LIVE_PAY_CODES)
    UPDATE mall_code SET revoked_at = p_at
    WHERE resident = p_resident AND kind = 'pay' AND created_by IS NULL AND used_at IS NULL
      AND revoked_at IS NULL
      AND id <= (SELECT id FROM mall_code WHERE resident = p_resident AND kind = 'pay'
                 AND created_by IS NULL AND used_at IS NULL AND revoked_at IS NULL
                 ORDER BY id DESC LIMIT 1 OFFSET 3);
END $$;
