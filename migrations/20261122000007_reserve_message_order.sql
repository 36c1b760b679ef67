-- Reserve stock and create a message's pending order in one call.
--
-- Done statement by statement from the worker, the product row's lock was held across six
-- round trips; here it is held for this call and the commit. Each statement in a plpgsql
-- function takes a fresh snapshot (READ COMMITTED), so the checks after the lock see every
-- order committed by the buyers who held it before us.
CREATE FUNCTION reserve_message_order(
    p_message_id     BIGINT,
    p_product_id     BIGINT,
    p_buyer          TEXT,
    p_quantity       INTEGER,
    p_ttl_secs       DOUBLE PRECISION,
    p_checkout_queue TEXT,   -- NULL: no checkout job (Stripe not configured)
    p_checkout_key   TEXT    -- the job's idempotency key is this prefix || order_number
)
RETURNS TABLE (
    outcome         TEXT,    -- 'ordered' | 'sold_out' | 'duplicate_pending'
    order_id        BIGINT,
    order_number    TEXT,
    total_cents     BIGINT,
    currency        TEXT,
    expires_at      TIMESTAMPTZ,
    checkout_job_id BIGINT
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_available INTEGER;
    v_price     BIGINT;
    v_currency  TEXT;
    v_order     BIGINT;
    v_number    TEXT;
    v_expires   TIMESTAMPTZ;
    v_job       BIGINT;
BEGIN
    -- Answers that need no lock: a buyer's second "mine!" and a sold-out product. A stale
    -- read can only say "available", which the locked checks below correct.
    SELECT o.id INTO v_order FROM orders o
     WHERE o.buyer = p_buyer AND o.product_id = p_product_id
       AND o.status = 'pending' AND o.source = 'message';
    IF FOUND THEN
        RETURN QUERY SELECT 'duplicate_pending', v_order, NULL::TEXT, NULL::BIGINT, NULL::TEXT,
                            NULL::TIMESTAMPTZ, NULL::BIGINT;
        RETURN;
    END IF;
    SELECT p.stock_on_hand - p.reserved INTO v_available FROM products p WHERE p.id = p_product_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'product % does not exist', p_product_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF v_available < p_quantity THEN
        RETURN QUERY SELECT 'sold_out', NULL::BIGINT, NULL::TEXT, NULL::BIGINT, NULL::TEXT,
                            NULL::TIMESTAMPTZ, NULL::BIGINT;
        RETURN;
    END IF;

    -- Concurrent buyers queue here; stock can never go negative.
    SELECT p.stock_on_hand - p.reserved, p.price_cents, p.currency
      INTO v_available, v_price, v_currency
      FROM products p WHERE p.id = p_product_id FOR UPDATE;
    SELECT o.id INTO v_order FROM orders o
     WHERE o.buyer = p_buyer AND o.product_id = p_product_id
       AND o.status = 'pending' AND o.source = 'message';
    IF FOUND THEN
        RETURN QUERY SELECT 'duplicate_pending', v_order, NULL::TEXT, NULL::BIGINT, NULL::TEXT,
                            NULL::TIMESTAMPTZ, NULL::BIGINT;
        RETURN;
    END IF;
    IF v_available < p_quantity THEN
        RETURN QUERY SELECT 'sold_out', NULL::BIGINT, NULL::TEXT, NULL::BIGINT, NULL::TEXT,
                            NULL::TIMESTAMPTZ, NULL::BIGINT;
        RETURN;
    END IF;

    UPDATE products SET reserved = reserved + p_quantity, updated_at = now()
     WHERE id = p_product_id;
    INSERT INTO orders (order_number, source, message_id, product_id, buyer, quantity,
                        total_cents, currency)
    VALUES ('ORD-' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD') || '-'
                   || lpad((nextval('order_number_seq') % 100000)::text, 5, '0'),
            'message', p_message_id, p_product_id, p_buyer, p_quantity,
            v_price * p_quantity, v_currency)
    RETURNING id, order_number INTO v_order, v_number;
    INSERT INTO reservations (order_id, product_id, quantity, expires_at)
    VALUES (v_order, p_product_id, p_quantity, now() + make_interval(secs => p_ttl_secs))
    RETURNING expires_at INTO v_expires;
    IF p_checkout_queue IS NOT NULL THEN
        INSERT INTO jobs (queue, inbox_id, subject_id, idempotency_key)
        SELECT p_checkout_queue, m.inbox_id, v_order, p_checkout_key || v_number
          FROM messages m WHERE m.id = p_message_id
        RETURNING id INTO v_job;
    END IF;
    RETURN QUERY SELECT 'ordered', v_order, v_number, v_price * p_quantity, v_currency,
                        v_expires, v_job;
END;
$$;
