"""PostgreSQL: ``mall_checkout``, a checkout's transaction in one round trip.

``mall.redemption.checkout`` calls it on PostgreSQL instead of sending fourteen statements (each
round trip cost PostgreSQL 70-150 us of CPU besides its work: ``bench/checkout_floor.py``). It
does what the Python path does, in the same order, with the same refusals:

1. the outlet (``not_found``, ``closed``; another community's → ``not_found`` unless admin);
2. the order placed before under this key (``mall_replayed_order``): the same request → its
   receipt (``replay``), another → ``key_reused``;
3. the pay code (``code_invalid``, ``code_used``, ``code_expired``), unless a card's resident is
   given; another community's code → ``code_invalid``;
4. the items (an unknown or inactive SKU → ``no_item``), sorted by id; the monthly limits
   (``limit``) and the stock (``out_of_stock``), in that order;
5. the writes: the code used (taken meanwhile → the replay, else ``code_used``), ``ledger_post``
   (``insufficient``, ``key_reused``, ``missing``, or a replay), the order, the stock movements in
   item order (a shelf emptied meanwhile → ``out_of_stock``) and the order lines.

A refusal is raised with SQLSTATE ``MC001``, the status as message, and its details (a SKU or a
name; up to three numbers) as detail and hint; being raised, it undoes whatever the call wrote.
The accounts are spelled as in ``mall.points`` (``wallet:r<resident>``,
``redeemed:o<outlet>:<resident mod shards>``; tests check the takings land in those). SQLite keeps
the Python path: nothing to install.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-02T07:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "mall_checkout: a checkout in one statement (PostgreSQL)"

REPLAYED_ORDER = """
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
END $$
"""

CHECKOUT = """
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
    r_line record;
    r_level record;
    r_post record;
    v_resident bigint;
    v_wallet text;
    v_used bigint;
    v_memo text;
    n integer := cardinality(p_skus);
    ids bigint[] := '{}';
    names text[] := '{}';
    kinds text[] := '{}';
    prices bigint[] := '{}';
    limits integer[] := '{}';
BEGIN
    SELECT o.community_id, o.active, c.book INTO r_outlet
      FROM catalog_outlet o JOIN mall_community c ON c.id = o.community_id WHERE o.id = p_outlet;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'not_found';
    END IF;
    IF NOT r_outlet.active THEN
        RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'closed';
    END IF;
    IF NOT p_admin AND r_outlet.community_id IS DISTINCT FROM p_community THEN
        RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'not_found';
    END IF;

    SELECT r.order_id, r.total, r.balance_after INTO order_id, total, balance_after
      FROM mall_replayed_order(p_outlet, p_key, p_req) r;
    IF order_id IS NOT NULL THEN
        status := 'replay';
        RETURN;
    END IF;

    IF p_card_resident IS NULL THEN
        SELECT c.resident, c.expires_at, c.used_at, c.revoked_at, r.community INTO r_code
          FROM mall_code c JOIN mall_resident r ON r.id = c.resident
         WHERE c.ident = p_ident AND c.kind = 'pay';
        IF NOT FOUND OR r_code.revoked_at IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'code_invalid';
        END IF;
        IF r_code.used_at IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'code_used';
        END IF;
        IF r_code.expires_at IS NOT NULL AND r_code.expires_at <= p_at THEN
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'code_expired';
        END IF;
        IF r_code.community <> r_outlet.community_id THEN
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'code_invalid';
        END IF;
        v_resident := r_code.resident;
    ELSE
        v_resident := p_card_resident;
    END IF;

    -- each wanted SKU with its item, in the order asked (the first unknown one is named); the
    -- lines are then worked on in item id order (the lock order)
    FOR i IN 1..n LOOP
        SELECT c.id, c.name, c.kind, c.price_points, c.monthly_limit, c.active INTO r_item
          FROM catalog_item c WHERE c.community_id = r_outlet.community_id AND c.sku = p_skus[i];
        IF NOT FOUND OR NOT r_item.active THEN
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'no_item', DETAIL = p_skus[i];
        END IF;
        ids := ids || r_item.id::bigint;
        names := names || r_item.name::text;
        kinds := kinds || r_item.kind::text;
        prices := prices || r_item.price_points::bigint;
        limits := limits || r_item.monthly_limit::integer;
    END LOOP;
    SELECT COALESCE(sum(u.price * u.quantity), 0) INTO total
      FROM unnest(prices, p_quantities) AS u(price, quantity);

    FOR r_line IN SELECT * FROM unnest(ids, names, limits, p_quantities)
                    AS u(item, name, monthly_limit, quantity)
                   WHERE u.monthly_limit IS NOT NULL ORDER BY u.item LOOP
        SELECT COALESCE(sum(x.q), 0) INTO v_used FROM (
            SELECT l.quantity AS q FROM mall_order_line l JOIN mall_order o ON o.id = l."order"
             WHERE o.resident = v_resident AND o.status = 'completed'
               AND o.created_at >= p_month_start AND l.item = r_line.item
            UNION ALL
            SELECT l.quantity FROM mall_reservation_line l
              JOIN mall_reservation rv ON rv.id = l.reservation
             WHERE rv.resident = v_resident AND rv.status = 'held' AND l.item = r_line.item) x;
        IF r_line.quantity > greatest(0, r_line.monthly_limit - v_used) THEN
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'limit', DETAIL = r_line.name,
                HINT = r_line.monthly_limit || ',' || greatest(0, r_line.monthly_limit - v_used);
        END IF;
    END LOOP;

    FOR r_line IN SELECT u.item, u.name, u.quantity, COALESCE(s.level, 0) AS level
                    FROM unnest(ids, names, kinds, p_quantities) AS u(item, name, kind, quantity)
                    LEFT JOIN catalog_stock_level s ON s.outlet = p_outlet AND s.item = u.item
                   WHERE u.kind = 'goods' ORDER BY u.item LOOP
        IF r_line.quantity > r_line.level THEN
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'out_of_stock',
                DETAIL = r_line.name,
                HINT = r_line.item || ',' || r_line.level || ',' || r_line.quantity;
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
    v_wallet := 'wallet:r' || v_resident;
    SELECT left(string_agg(u.name || '×' || u.quantity, '、' ORDER BY u.item), 200) INTO v_memo
      FROM unnest(ids, names, p_quantities) AS u(item, name, quantity);
    SELECT * INTO r_post FROM ledger_post(r_outlet.book, 'redemption', NULL, v_memo,
        p_ledger_key, p_req, NULL, p_at,
        ARRAY[v_wallet, 'redeemed:o' || p_outlet || ':' || (v_resident % p_shards)],
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

    FOR r_line IN SELECT * FROM unnest(ids, names, kinds, p_quantities)
                    AS u(item, name, kind, quantity)
                   WHERE u.kind = 'goods' ORDER BY u.item LOOP
        SELECT s.id, s.level, s.version INTO r_level FROM catalog_stock_level s
         WHERE s.outlet = p_outlet AND s.item = r_line.item FOR UPDATE;
        IF NOT FOUND THEN
            INSERT INTO catalog_stock_level (outlet, item, level, version)
            VALUES (p_outlet, r_line.item, 0, 0) ON CONFLICT (outlet, item) DO NOTHING;
            SELECT s.id, s.level, s.version INTO r_level FROM catalog_stock_level s
             WHERE s.outlet = p_outlet AND s.item = r_line.item FOR UPDATE;
        END IF;
        IF r_level.level - r_line.quantity < 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'MC001', MESSAGE = 'out_of_stock',
                DETAIL = r_line.name,
                HINT = r_line.item || ',' || r_level.level || ',' || r_line.quantity;
        END IF;
        UPDATE catalog_stock_level
           SET level = r_level.level - r_line.quantity, version = r_level.version + 1
         WHERE id = r_level.id;
        INSERT INTO catalog_stock_movement (outlet, item, quantity, reason, reference, donor,
                    memo, version, level_after, idempotency_key, request_hash, user_id, at)
        VALUES (p_outlet, r_line.item, -r_line.quantity, 'redemption', 'order:' || order_id,
                NULL, '', r_level.version + 1, r_level.level - r_line.quantity, NULL, NULL,
                p_user, p_at);
    END LOOP;
    INSERT INTO mall_order_line ("order", item, name, quantity, price_points)
    SELECT order_id, u.item, u.name, u.quantity, u.price
      FROM unnest(ids, names, p_quantities, prices) AS u(item, name, quantity, price)
     ORDER BY u.item;
    status := 'done';
END $$
"""


NEW_PAY_CODE = """
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
END $$
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mall", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        if engine.engine_type == "postgres":
            await engine.run_ddl(REPLAYED_ORDER)
            await engine.run_ddl(CHECKOUT)
            await engine.run_ddl(NEW_PAY_CODE)

    manager.add_raw(run)
    return manager
