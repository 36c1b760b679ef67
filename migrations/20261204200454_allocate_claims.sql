-- Generated from crates/shopwire-core/sql/allocate_claims.sql by scripts/sql-migration.sh: edit that file, not this one.

-- The allocator: decide a variant's due claims in message-time order under one row lock.
--
-- This file is the function's one source. A migration that changes it is generated from
-- this file (scripts/sql-migration.sh allocate_claims), and a test checks that the
-- definition Postgres runs is exactly this text.
--
-- Candidates are the variant's waitlist (oldest message first) and its pending claims that
-- are due (message time + CLAIM_ORDER_WINDOW_MS has passed) and settled (every buyer
-- message delivered before this claim's own delivery arrived + the window has been read:
-- p_settled_before is the earliest arrival of a message delivery still unread, less the
-- window; NULL when none is unread or the window is off), together ordered by message
-- time, then arrival. A worker that falls behind in a burst so delays the holds, never
-- gives the last unit to a later message. Walking them in that order:
--   * a buyer who already holds this variant        → already_held (a waitlisted one waits on)
--   * a buyer at p_max_open_holds unpaid holds       → limit_reached (a waitlisted one waits on)
--   * enough stock free and nobody ahead left waiting → a hold, order and checkout job:
--                                                     reserved, or promoted from the waitlist
--   * otherwise (no overtaking: once one claim waits, everyone behind it waits too)
--                                                   → waitlisted while the line is shorter than
--                                                     p_waitlist_max, else sold_out
-- With p_cart_settle_secs (CART_MODE=live) a hold from a live gets no checkout job of its
-- own: it joins its buyer's open cart for the streamer (opening one), whose one checkout
-- job (key 'cart:' || id, subject the cart) is due p_cart_settle_secs after this hold, and
-- that job is the one returned. Waitlist entries past their expiry lapse first. Each
-- decided claim's message records the outcome. Returns one row per claim decided or
-- promoted by this call.
DROP FUNCTION IF EXISTS allocate_claims(BIGINT, DOUBLE PRECISION, TEXT, TEXT, INTEGER,
                                        DOUBLE PRECISION, INTEGER, TIMESTAMPTZ);
CREATE OR REPLACE FUNCTION allocate_claims(
    p_product_id        BIGINT,
    p_ttl_secs          DOUBLE PRECISION,
    p_checkout_queue    TEXT,    -- NULL: no checkout job (Stripe not configured)
    p_checkout_key      TEXT,    -- a checkout job's idempotency key is this || order_number
    p_waitlist_max      INTEGER,
    p_waitlist_ttl_secs DOUBLE PRECISION,
    p_max_open_holds    INTEGER,
    p_settled_before    TIMESTAMPTZ,
    p_cart_settle_secs  DOUBLE PRECISION DEFAULT NULL  -- NULL: a checkout job per hold
)
RETURNS TABLE (
    claim_id        BIGINT,
    outcome         TEXT,
    order_id        BIGINT,
    order_number    TEXT,
    checkout_job_id BIGINT,
    waitlist_position INTEGER
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_available INTEGER;
    v_price     BIGINT;
    v_currency  TEXT;
    v_line      INTEGER;
    v_blocked   BOOLEAN := false;
    v_order     BIGINT;
    v_number    TEXT;
    v_job       BIGINT;
    v_outcome   TEXT;
    v_cart      BIGINT;
    v_settle    TIMESTAMPTZ;
    c           RECORD;
BEGIN
    -- The row lock an UPDATE takes: every writer of the variant's stock waits for it, while
    -- rows that only reference the variant (a message naming it, a claim for it) can still
    -- be written meanwhile. FOR UPDATE would also block those inserts' foreign-key checks,
    -- so every buyer message read for a hot SKU queued behind each allocation.
    SELECT p.stock_on_hand - p.reserved, p.price_cents, p.currency
      INTO v_available, v_price, v_currency
      FROM products p WHERE p.id = p_product_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'product % does not exist', p_product_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;

    UPDATE claims SET status = 'lapsed', decided_at = now()
     WHERE product_id = p_product_id AND status = 'waiting' AND waitlist_expires_at <= now();
    SELECT count(*) INTO v_line FROM claims
     WHERE product_id = p_product_id AND status = 'waiting';

    FOR c IN
        SELECT cl.id, cl.message_id, cl.buyer, cl.streamer, cl.quantity, cl.status
          FROM claims cl
         WHERE cl.product_id = p_product_id
           AND (cl.status = 'waiting'
                OR (cl.status = 'pending' AND cl.due_at <= now()
                    AND (p_settled_before IS NULL OR cl.received_at < p_settled_before)))
         ORDER BY cl.message_time, cl.received_at, cl.id
    LOOP
        v_outcome := NULL;
        IF EXISTS (SELECT 1 FROM orders o
                    WHERE o.buyer = c.buyer AND o.product_id = p_product_id
                      AND o.status = 'pending' AND o.source = 'message') THEN
            v_outcome := 'already_held';
        ELSIF (SELECT count(*) FROM orders o
                WHERE o.buyer = c.buyer AND o.status = 'pending' AND o.source = 'message')
              >= p_max_open_holds THEN
            v_outcome := 'limit_reached';
        END IF;
        IF v_outcome IS NOT NULL THEN
            -- A waitlisted claim keeps its place until its buyer can take a hold again.
            IF c.status = 'pending' THEN
                UPDATE claims SET status = 'decided', outcome = v_outcome, decided_at = now()
                 WHERE id = c.id;
                UPDATE messages SET outcome = v_outcome WHERE id = c.message_id;
                RETURN QUERY SELECT c.id, v_outcome, NULL::BIGINT, NULL::TEXT, NULL::BIGINT,
                                    NULL::INTEGER;
            END IF;
            CONTINUE;
        END IF;

        IF NOT v_blocked AND v_available >= c.quantity THEN
            v_outcome := CASE WHEN c.status = 'waiting' THEN 'promoted' ELSE 'reserved' END;
            v_available := v_available - c.quantity;
            IF c.status = 'waiting' THEN
                v_line := v_line - 1;
            END IF;
            UPDATE products SET reserved = reserved + c.quantity, updated_at = now()
             WHERE id = p_product_id;
            INSERT INTO orders (order_number, source, message_id, product_id, buyer, quantity,
                                total_cents, currency)
            VALUES ('ORD-' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD') || '-'
                           || lpad((nextval('order_number_seq') % 100000)::text, 5, '0'),
                    'message', c.message_id, p_product_id, c.buyer, c.quantity,
                    v_price * c.quantity, v_currency)
            RETURNING id, order_number INTO v_order, v_number;
            INSERT INTO reservations (order_id, product_id, quantity, expires_at)
            VALUES (v_order, p_product_id, c.quantity, now() + make_interval(secs => p_ttl_secs));
            v_job := NULL;
            IF p_checkout_queue IS NOT NULL AND p_cart_settle_secs IS NOT NULL
               AND c.streamer IS NOT NULL THEN
                v_settle := now() + make_interval(secs => p_cart_settle_secs);
                INSERT INTO carts (buyer, streamer, currency, settle_at)
                VALUES (c.buyer, c.streamer, v_currency, v_settle)
                ON CONFLICT (buyer, streamer, currency) WHERE status = 'open'
                DO UPDATE SET settle_at = greatest(carts.settle_at, EXCLUDED.settle_at),
                              updated_at = now()
                RETURNING id, settle_at INTO v_cart, v_settle;
                UPDATE orders SET cart_id = v_cart WHERE id = v_order;
                -- A job already running or retrying keeps its time: it closes the cart
                -- with this hold in it.
                INSERT INTO jobs (queue, inbox_id, subject_id, idempotency_key, next_attempt_at)
                SELECT p_checkout_queue, m.inbox_id, v_cart, 'cart:' || v_cart, v_settle
                  FROM messages m WHERE m.id = c.message_id
                ON CONFLICT (idempotency_key) DO UPDATE
                   SET next_attempt_at = CASE WHEN jobs.status = 'queued'
                                              THEN EXCLUDED.next_attempt_at
                                              ELSE jobs.next_attempt_at END
                RETURNING id INTO v_job;
            ELSIF p_checkout_queue IS NOT NULL THEN
                INSERT INTO jobs (queue, inbox_id, subject_id, idempotency_key)
                SELECT p_checkout_queue, m.inbox_id, v_order, p_checkout_key || v_number
                  FROM messages m WHERE m.id = c.message_id
                RETURNING id INTO v_job;
            END IF;
            UPDATE claims SET status = 'decided', outcome = v_outcome, order_id = v_order,
                              decided_at = now()
             WHERE id = c.id;
            UPDATE messages SET outcome = v_outcome WHERE id = c.message_id;
            RETURN QUERY SELECT c.id, v_outcome, v_order, v_number, v_job, NULL::INTEGER;
            CONTINUE;
        END IF;

        -- Not served: everyone behind this claim waits behind it.
        v_blocked := true;
        IF c.status = 'waiting' THEN
            CONTINUE;
        END IF;
        IF v_line < p_waitlist_max THEN
            v_line := v_line + 1;
            UPDATE claims SET status = 'waiting', outcome = 'waitlisted', decided_at = now(),
                              waitlist_expires_at = now() + make_interval(secs => p_waitlist_ttl_secs)
             WHERE id = c.id;
            UPDATE messages SET outcome = 'waitlisted' WHERE id = c.message_id;
            RETURN QUERY SELECT c.id, 'waitlisted'::TEXT, NULL::BIGINT, NULL::TEXT, NULL::BIGINT,
                                v_line;
        ELSE
            UPDATE claims SET status = 'decided', outcome = 'sold_out', decided_at = now()
             WHERE id = c.id;
            UPDATE messages SET outcome = 'sold_out' WHERE id = c.message_id;
            RETURN QUERY SELECT c.id, 'sold_out'::TEXT, NULL::BIGINT, NULL::TEXT, NULL::BIGINT,
                                NULL::INTEGER;
        END IF;
    END LOOP;
END;
$$;
