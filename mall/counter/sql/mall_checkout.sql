-- Mirrors mall.counter.checkout.checkout (its Python path). PostgreSQL only: mall.counter.checkout.
-- _checkout_in_one_call calls it instead of sending fourteen statements (each round trip cost
-- PostgreSQL 70-150 us of CPU besides its work: ``bench/checkout_floor.py``). It does what the
-- Python path does, in the same order, with the same refusals:
--
-- 1. the outlet (``not_found``, ``closed``; another community's → ``not_found`` unless admin);
-- 2. the order placed before under this key (``mall_replayed_order``): the same request → its
--    receipt (``replay``), another → ``key_reused``;
-- 3. the pay code, or an offline pay code (``account_closed`` when its resident's record is
--    closed, ``code_invalid``, ``code_used``, ``code_expired``, an offline code before its window
--    ``code_invalid``: ``mall.counter.payer.check_window``); another community's code →
--    ``code_invalid``. For a printed
--    card (its resident given, its PIN checked before the call, ``p_ident`` the card's ident) the
--    card itself: its record closed meanwhile → ``account_closed``, revoked meanwhile by a new
--    card → ``code_invalid``, waiting for a second staff
--    member's approval → ``card_pending``;
-- 4. the items (an unknown or inactive SKU → ``no_item``), sorted by id; the monthly limits
--    (``limit``) and the stock (``out_of_stock``), in that order;
-- 5. the writes: the code used (taken meanwhile → the replay, else ``code_used``), ``ledger_post``
--    (``insufficient``, ``key_reused``, ``missing``, or a replay), the order, the stock movements in
--    item order (a shelf emptied meanwhile → ``out_of_stock``) and the order lines.
--
-- A refusal is raised with SQLSTATE ``MC001``, the status as message, and its details (a SKU or a
-- name; up to three numbers) as detail and hint; being raised, it undoes whatever the call wrote.
-- The accounts are spelled as in ``mall.points`` (``wallet:r<resident>``,
-- ``redeemed:o<outlet>:<resident mod shards>``; tests check the takings land in those).
--
-- Few statements (each costs an executor start and end, 20-40 us of CPU; docs/performance.md):
-- the outlet and the replayed order are one statement; the items and their stock levels are one,
-- in item id order (the lock order), the first unknown SKU in the order asked still the one named;
-- the monthly-limit query runs only for items that have a limit; a stock level is taken by one
-- ``UPDATE ... WHERE level >= quantity RETURNING``; the stock movements and the order lines are
-- one ``INSERT`` each.
--
-- Monthly limits: when a line's item has one, the resident's row is locked ``FOR NO KEY UPDATE``
-- first, as ``mall.counter.basket.check_limits`` does for reservations, so two checkouts of one
-- resident at once cannot both pass the count (``tests/unit/test_redemption.py``,
-- ``test_one_resident_s_concurrent_orders_and_reservations_keep_the_monthly_limit``). Foreign-key
-- checks take ``FOR KEY SHARE``, which does not conflict, so the lock adds no deadlock. A refund
-- of chosen lines gives their quantity back to the month (``basket.used_this_month`` the same).
CREATE OR REPLACE FUNCTION mall_checkout(
    p_outlet bigint, p_admin boolean, p_community bigint, p_user bigint,
    p_key text, p_req text, p_ledger_key text, p_ident text, p_card_resident bigint,
    p_skus text[], p_quantities integer[], p_at timestamptz, p_month_start timestamptz,
    p_shards integer,
    OUT status text, OUT order_id bigint, OUT total bigint, OUT balance_after bigint
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r_outlet record;
    r_code record;
    r_item record;
    r_post record;
    v_resident bigint;
    v_used bigint;
    v_level bigint;
    v_version integer;
    v_memo text := '';
    v_unknown integer;  -- the position, in the order asked, of the first unknown SKU
    v_limited boolean := false;  -- does any line have a monthly limit?
    ids bigint[] := '{}';
    names text[] := '{}';
    kinds text[] := '{}';
    prices bigint[] := '{}';
    limits integer[] := '{}';
    quantities integer[] := '{}';
    levels bigint[] := '{}';
    moved bigint[] := '{}';
    moved_qty integer[] := '{}';
    moved_version integer[] := '{}';
    moved_level bigint[] := '{}';
BEGIN
    SELECT o.community_id, o.active, c.book, m.id AS replayed
      INTO r_outlet
      FROM catalog_outlet o JOIN mall_community c ON c.id = o.community_id
      LEFT JOIN mall_order m ON m.outlet = o.id AND m.idempotency_key = p_key
     WHERE o.id = p_outlet;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'not_found';
    END IF;
    IF NOT r_outlet.active THEN
        RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'closed';
    END IF;
    IF NOT p_admin AND r_outlet.community_id IS DISTINCT FROM p_community THEN
        RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'not_found';
    END IF;
    IF r_outlet.replayed IS NOT NULL THEN  -- key_reused, or the receipt of the same request
        SELECT r.order_id, r.total, r.balance_after INTO order_id, total, balance_after
          FROM mall_replayed_order(p_outlet, p_key, p_req) r;
        IF order_id IS NOT NULL THEN
            status := 'replay';
            RETURN;
        END IF;
    END IF;

    IF p_card_resident IS NULL THEN
        SELECT c.resident, c.valid_from, c.expires_at, c.used_at, c.revoked_at, r.community,
               r.closed_at
          INTO r_code
          FROM mall_code c JOIN mall_resident r ON r.id = c.resident
         WHERE c.ident = p_ident AND c.kind IN ('pay', 'offline');
        IF FOUND AND r_code.closed_at IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'account_closed';
        END IF;
        IF NOT FOUND OR r_code.revoked_at IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'code_invalid';
        END IF;
        IF r_code.used_at IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'code_used';
        END IF;
        IF r_code.expires_at IS NOT NULL AND r_code.expires_at <= p_at THEN
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'code_expired';
        END IF;
        IF r_code.valid_from IS NOT NULL AND r_code.valid_from > p_at THEN
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'code_invalid';
        END IF;
        IF r_code.community <> r_outlet.community_id THEN
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'code_invalid';
        END IF;
        v_resident := r_code.resident;
    ELSE
        SELECT c.revoked_at, c.pending, r.closed_at INTO r_code
          FROM mall_code c JOIN mall_resident r ON r.id = c.resident
         WHERE c.ident = p_ident AND c.kind = 'card';
        IF FOUND AND r_code.closed_at IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'account_closed';
        END IF;
        IF NOT FOUND OR r_code.revoked_at IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'code_invalid';
        END IF;
        IF r_code.pending THEN
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'card_pending';
        END IF;
        v_resident := p_card_resident;
    END IF;

    -- every line with its item and stock level, in item id order (the lock order); unknown SKUs
    -- come last, and the first of them in the order asked is named
    total := 0;
    FOR r_item IN
        SELECT u.ord, u.quantity, c.id, c.name, c.kind, c.price_points, c.monthly_limit, c.active,
               COALESCE(s.level, 0) AS level
          FROM unnest(p_skus, p_quantities) WITH ORDINALITY AS u(sku, quantity, ord)
          LEFT JOIN catalog_item c ON c.community_id = r_outlet.community_id AND c.sku = u.sku
          LEFT JOIN catalog_stock_level s ON s.outlet = p_outlet AND s.item = c.id
         ORDER BY c.id, u.ord
    LOOP
        IF r_item.id IS NULL OR NOT r_item.active THEN
            v_unknown := least(v_unknown, r_item.ord::integer);
            CONTINUE;
        END IF;
        IF v_unknown IS NULL THEN
            ids := ids || r_item.id::bigint;
            names := names || r_item.name::text;
            kinds := kinds || r_item.kind::text;
            prices := prices || r_item.price_points::bigint;
            limits := limits || r_item.monthly_limit::integer;
            quantities := quantities || r_item.quantity;
            levels := levels || r_item.level::bigint;
            v_limited := v_limited OR r_item.monthly_limit IS NOT NULL;
            total := total + r_item.price_points * r_item.quantity;
            v_memo := v_memo || CASE WHEN v_memo = '' THEN '' ELSE '、' END
                      || r_item.name || '×' || r_item.quantity;
        END IF;
    END LOOP;
    IF v_unknown IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'no_item', DETAIL = p_skus[v_unknown];
    END IF;

    IF v_limited THEN  -- one resident's checkouts count their month one at a time
        PERFORM 1 FROM mall_resident WHERE id = v_resident FOR NO KEY UPDATE;
    END IF;
    FOR i IN 1..cardinality(ids) LOOP
        CONTINUE WHEN limits[i] IS NULL;
        SELECT COALESCE(sum(x.q), 0) INTO v_used FROM (
            SELECT l.quantity - COALESCE((SELECT sum(rl.quantity) FROM mall_refund_line rl
                                           WHERE rl.order_line = l.id), 0) AS q
              FROM mall_order_line l JOIN mall_order o ON o.id = l."order"
             WHERE o.resident = v_resident AND o.status = 'completed'
               AND o.created_at >= p_month_start AND l.item = ids[i]
            UNION ALL
            SELECT l.quantity FROM mall_reservation_line l
              JOIN mall_reservation rv ON rv.id = l.reservation
             WHERE rv.resident = v_resident AND rv.status = 'held' AND l.item = ids[i]) x;
        IF quantities[i] > greatest(0, limits[i] - v_used) THEN
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'limit', DETAIL = names[i],
                HINT = limits[i] || ',' || greatest(0, limits[i] - v_used);
        END IF;
    END LOOP;

    FOR i IN 1..cardinality(ids) LOOP
        IF kinds[i] = 'goods' AND quantities[i] > levels[i] THEN
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'out_of_stock', DETAIL = names[i],
                HINT = ids[i] || ',' || levels[i] || ',' || quantities[i];
        END IF;
    END LOOP;

    -- the writes: the code first (it settles a race for one code), then the points
    IF p_card_resident IS NULL THEN
        UPDATE mall_code SET used_at = p_at WHERE ident = p_ident AND used_at IS NULL;
        IF NOT FOUND THEN  -- another counter won; was it this very request, retried?
            SELECT r.order_id, r.total, r.balance_after INTO order_id, total, balance_after
              FROM mall_replayed_order(p_outlet, p_key, p_req) r;
            IF order_id IS NOT NULL THEN
                status := 'replay';
                RETURN;
            END IF;
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'code_used';
        END IF;
    END IF;
    SELECT * INTO r_post FROM ledger_post(r_outlet.book, 'redemption', NULL, left(v_memo, 200),
        p_ledger_key, p_req, NULL, p_at,
        ARRAY['wallet:r' || v_resident, 'redeemed:o' || p_outlet || ':' || (v_resident % p_shards)],
        ARRAY[-total, total]::bigint[]);
    IF r_post.status = 'insufficient' THEN
        RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'insufficient',
            HINT = total || ',' || r_post.balances[1];
    ELSIF r_post.status = 'missing' THEN
        RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'missing', DETAIL = r_post.detail;
    ELSIF r_post.status <> 'posted' THEN
        -- replay: the same request committed while this one waited for the locks
        SELECT r.order_id, r.total, r.balance_after INTO order_id, total, balance_after
          FROM mall_replayed_order(p_outlet, p_key, p_req) r;
        IF r_post.status = 'replay' AND order_id IS NOT NULL THEN
            status := 'replay';
            RETURN;
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'key_reused';
    END IF;
    balance_after := r_post.balances[1];

    INSERT INTO mall_order (community, outlet, resident, user_id, total, status, journal_id,
                            code_ident, idempotency_key, request_hash, created_at)
    VALUES (r_outlet.community_id, p_outlet, v_resident, p_user, total, 'completed',
            r_post.journal_id, CASE WHEN p_card_resident IS NULL THEN p_ident END, p_key, p_req,
            p_at)
    RETURNING id INTO order_id;

    FOR i IN 1..cardinality(ids) LOOP
        CONTINUE WHEN kinds[i] <> 'goods';
        UPDATE catalog_stock_level SET level = level - quantities[i], version = version + 1
         WHERE outlet = p_outlet AND item = ids[i] AND level >= quantities[i]
        RETURNING level, version INTO v_level, v_version;
        IF NOT FOUND THEN  -- emptied since the check above
            SELECT COALESCE(max(s.level), 0) INTO v_level FROM catalog_stock_level s
             WHERE s.outlet = p_outlet AND s.item = ids[i];
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'out_of_stock',
                DETAIL = names[i], HINT = ids[i] || ',' || v_level || ',' || quantities[i];
        END IF;
        moved := moved || ids[i];
        moved_qty := moved_qty || quantities[i];
        moved_version := moved_version || v_version;
        moved_level := moved_level || v_level;
    END LOOP;
    INSERT INTO catalog_stock_movement (outlet, item, quantity, reason, reference, donor, memo,
                version, level_after, idempotency_key, request_hash, user_id, at)
    SELECT p_outlet, u.item, -u.quantity, 'redemption', 'order:' || order_id, NULL, '',
           u.version, u.level_after, NULL, NULL, p_user, p_at
      FROM unnest(moved, moved_qty, moved_version, moved_level)
           WITH ORDINALITY AS u(item, quantity, version, level_after, n)
     ORDER BY u.n;
    INSERT INTO mall_order_line ("order", item, name, quantity, price_points)
    SELECT order_id, u.item, u.name, u.quantity, u.price
      FROM unnest(ids, names, quantities, prices) WITH ORDINALITY AS u(item, name, quantity, price, n)
     ORDER BY u.n;
    status := 'done';
END $$;
