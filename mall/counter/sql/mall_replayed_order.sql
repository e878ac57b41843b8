-- Mirrors mall.counter.checkout._replayed_order. PostgreSQL only: mall_checkout calls it.
CREATE OR REPLACE FUNCTION mall_replayed_order(
    p_outlet bigint, p_key text, p_req text,
    OUT order_id bigint, OUT total bigint, OUT balance_after bigint
) LANGUAGE plpgsql STABLE AS $$
DECLARE
    o record;
BEGIN
    SELECT id, mall_order.total AS amount, journal_id, resident, request_hash INTO o
      FROM mall_order WHERE outlet = p_outlet AND idempotency_key = p_key;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF o.request_hash IS DISTINCT FROM p_req THEN
        RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'key_reused';
    END IF;
    order_id := o.id;
    total := o.amount;
    SELECT COALESCE(max(p.balance_after), 0) INTO balance_after
      FROM ledger_posting p JOIN ledger_account a ON a.id = p.account
     WHERE p.journal = o.journal_id AND a.code = 'wallet:r' || o.resident;
END $$;
