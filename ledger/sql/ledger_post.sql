-- Mirrors ledger.journals.post_journal (its Python path, ledger.journals._post). PostgreSQL only:
-- ledger.journals._post_one_statement calls it instead of sending six statements, so that the row
-- locks of the touched accounts (``budget`` is in every award) are held for as short a time as
-- possible. It does exactly what the Python write path does, in the same order, and every check
-- comes before the first write, so a refused request writes nothing even if the caller commits:
--
-- 1. the idempotency key, before any lock: the same key and request → ``replay`` (with the first
--    journal's id), another request → ``reused``;
-- 2. the accounts, locked ``FOR UPDATE`` in id order; an unknown code → ``missing``;
-- 3. each ``no_negative`` account, in the order of the legs → ``insufficient`` (with its balance);
-- 4. the journal (``ON CONFLICT`` on the key: committed by another writer meanwhile → as in 1),
--    its postings with version, ``balance_after`` and the hash chain, and the accounts' cached
--    balance, version and last hash → ``posted``, with each leg's new version and balance.
--
-- The hash is ``ledger.journals.chain_hash`` computed in SQL: SHA-256 of
-- ``prev|journal|account|version|amount|balance_after`` (a test checks they agree).
-- Refusals are returned, not raised, so the caller's transaction stays usable, as with the Python
-- path. SQLite keeps the Python path (one writer, no lock window to shorten): nothing to install.
CREATE OR REPLACE FUNCTION ledger_post(
    p_book bigint, p_kind text, p_path text, p_memo text, p_key text, p_request_hash text,
    p_reverses bigint, p_created_at timestamptz, p_codes text[], p_amounts bigint[],
    OUT status text, OUT journal_id bigint, OUT detail text,
    OUT versions integer[], OUT balances bigint[]
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    n integer := cardinality(p_codes);
    ids bigint[] := array_fill(NULL::bigint, ARRAY[n]);
    no_neg boolean[] := array_fill(NULL::boolean, ARRAY[n]);
    prevs text[] := array_fill(NULL::text, ARRAY[n]);
    hashes text[] := array_fill(NULL::text, ARRAY[n]);
    known_hash text;
    acc record;
    i integer;
BEGIN
    versions := array_fill(NULL::integer, ARRAY[n]);
    balances := array_fill(NULL::bigint, ARRAY[n]);

    SELECT j.id, j.request_hash INTO journal_id, known_hash FROM ledger_journal j
     WHERE j.book = p_book AND j.idempotency_key = p_key;
    IF FOUND THEN
        status := CASE WHEN known_hash = p_request_hash THEN 'replay' ELSE 'reused' END;
        RETURN;
    END IF;

    FOR acc IN SELECT a.id, a.code, a.no_negative, a.balance, a.version, a.last_hash
                 FROM ledger_account a WHERE a.book = p_book AND a.code = ANY (p_codes)
                ORDER BY a.id FOR UPDATE LOOP
        i := array_position(p_codes, acc.code::text);
        ids[i] := acc.id;
        no_neg[i] := acc.no_negative;
        balances[i] := acc.balance;
        versions[i] := acc.version;
        prevs[i] := acc.last_hash;
    END LOOP;
    FOR i IN 1..n LOOP
        IF ids[i] IS NULL THEN
            status := 'missing'; detail := p_codes[i]; journal_id := NULL;
            versions := NULL; balances := NULL;
            RETURN;
        END IF;
    END LOOP;
    FOR i IN 1..n LOOP
        IF no_neg[i] AND balances[i] + p_amounts[i] < 0 THEN
            status := 'insufficient'; detail := p_codes[i]; journal_id := NULL;
            balances := ARRAY[balances[i]]; versions := NULL;
            RETURN;
        END IF;
    END LOOP;

    INSERT INTO ledger_journal
        (book, kind, path, memo, idempotency_key, request_hash, reverses, created_at)
    VALUES (p_book, p_kind, p_path, p_memo, p_key, p_request_hash, p_reverses, p_created_at)
    ON CONFLICT (book, idempotency_key) DO NOTHING
    RETURNING id INTO journal_id;
    IF journal_id IS NULL THEN  -- the same key committed while we waited for the locks
        SELECT j.id, j.request_hash INTO journal_id, known_hash FROM ledger_journal j
         WHERE j.book = p_book AND j.idempotency_key = p_key;
        status := CASE WHEN known_hash = p_request_hash THEN 'replay' ELSE 'reused' END;
        versions := NULL; balances := NULL;
        RETURN;
    END IF;

    FOR i IN 1..n LOOP
        versions[i] := versions[i] + 1;
        balances[i] := balances[i] + p_amounts[i];
        hashes[i] := encode(sha256(convert_to(concat_ws('|', prevs[i], journal_id, ids[i],
                                                        versions[i], p_amounts[i], balances[i]),
                                              'UTF8')), 'hex');
    END LOOP;
    INSERT INTO ledger_posting (journal, account, amount, version, balance_after, hash)
    SELECT journal_id, u.acc, u.amount, u.ver, u.bal, u.digest
      FROM unnest(ids, p_amounts, versions, balances, hashes)
           WITH ORDINALITY AS u(acc, amount, ver, bal, digest, leg)
     ORDER BY u.leg;
    UPDATE ledger_account a SET balance = u.bal, version = u.ver, last_hash = u.digest
      FROM unnest(ids, versions, balances, hashes) AS u(acc, ver, bal, digest)
     WHERE a.id = u.acc;
    status := 'posted';
END $$;
