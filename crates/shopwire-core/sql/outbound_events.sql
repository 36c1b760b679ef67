-- Outbound events (docs/contract.md §10), written by the database in the transaction of the
-- change they report: a claim's outcome and an order's checkout link or status are reported
-- by triggers, so no code path that changes them can forget its event, and a rolled-back
-- change never has one. Other events (hold.expiring, stock.alert) call emit_event directly.

-- Record one event (once per `p_dedupe_key`) and a delivery for each endpoint subscribed to
-- its type; commit then wakes the workers (`shopwire_outbound`, only when there is something
-- to send) and the console (`shopwire_events`, always); NOTIFY is delivered only on commit.
-- Returns the event id, or NULL when this change already reported itself.
CREATE OR REPLACE FUNCTION emit_event(
    p_type       TEXT,
    p_dedupe_key TEXT,
    p_subject    TEXT,
    p_order_id   BIGINT,
    p_claim_id   BIGINT,
    p_data       JSONB
) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    v_event BIGINT;
BEGIN
    INSERT INTO outbox_events (event_type, dedupe_key, subject, order_id, claim_id, data)
    VALUES (p_type, p_dedupe_key, p_subject, p_order_id, p_claim_id, p_data)
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id INTO v_event;
    IF v_event IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO outbound_deliveries (event_id, endpoint_id, subject)
    SELECT v_event, e.id, p_subject
      FROM endpoints e
     WHERE e.disabled_at IS NULL AND e.removed_at IS NULL
       AND ('*' = ANY (e.event_types) OR p_type = ANY (e.event_types));
    IF FOUND THEN
        PERFORM pg_notify('shopwire_outbound', v_event::text);
    END IF;
    -- The seller console's live feed: every committed event, whoever is subscribed.
    PERFORM pg_notify('shopwire_events', v_event::text);
    RETURN v_event;
END;
$$;

-- What every event about an order says of it.
CREATE OR REPLACE FUNCTION order_event_data(p_order_id BIGINT) RETURNS JSONB
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_data JSONB;
BEGIN
    SELECT jsonb_build_object(
               'order_number', o.order_number,
               'status', o.status,
               'source', o.source,
               'buyer', o.buyer,
               'streamer', m.streamer,
               'channel', m.channel,
               'claim_id', c.id,
               'sku', p.sku,
               'quantity', o.quantity,
               'amount_cents', o.total_cents,
               'currency', o.currency,
               'checkout_url', o.checkout_url,
               'expires_at', r.expires_at,
               'tiktok_order_id', o.tiktok_order_id)
      INTO v_data
      FROM orders o
      LEFT JOIN products p ON p.id = o.product_id
      LEFT JOIN messages m ON m.id = o.message_id
      LEFT JOIN claims c ON c.order_id = o.id
      LEFT JOIN reservations r ON r.order_id = o.id
     WHERE o.id = p_order_id;
    RETURN v_data;
END;
$$;

-- A claim's outcome, reported once per outcome it reaches (a waitlisted claim may later be
-- promoted). Every claim event names the claim, the buyer, the live and the source message.
CREATE OR REPLACE FUNCTION claims_emit_event() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_type    TEXT;
    v_data    JSONB;
    v_subject TEXT;
    v_source  TEXT;
    v_sku     TEXT;
BEGIN
    SELECT CASE WHEN i.dedupe_key = encode(sha256(i.body), 'hex') THEN NULL ELSE i.dedupe_key END
      INTO v_source
      FROM messages m JOIN inbox i ON i.id = m.inbox_id
     WHERE m.id = NEW.message_id;
    SELECT sku INTO v_sku FROM products WHERE id = NEW.product_id;
    v_data := jsonb_build_object(
        'claim_id', NEW.id,
        'buyer', NEW.buyer,
        'streamer', NEW.streamer,
        'channel', NEW.channel,
        CASE WHEN NEW.channel = 'comment' THEN 'comment_id' ELSE 'message_id' END, v_source,
        'outcome', NEW.outcome,
        'sku', v_sku,
        'quantity', NEW.quantity);
    v_subject := 'claim:' || NEW.id;
    CASE NEW.outcome
        WHEN 'reserved', 'promoted' THEN
            v_type := 'claim.' || NEW.outcome;
            v_subject := 'order:' || NEW.order_id;
            v_data := v_data || (
                SELECT jsonb_build_object(
                           'order_number', o.order_number,
                           'amount_cents', o.total_cents,
                           'currency', o.currency,
                           'hold_expires_at', r.expires_at)
                  FROM orders o LEFT JOIN reservations r ON r.order_id = o.id
                 WHERE o.id = NEW.order_id);
        WHEN 'waitlisted' THEN
            v_type := 'claim.waitlisted';
            v_data := v_data || jsonb_build_object('position', (
                SELECT count(*) FROM claims w
                 WHERE w.product_id = NEW.product_id AND w.status = 'waiting'
                   AND (w.message_time, w.id) <= (NEW.message_time, NEW.id)));
        WHEN 'needs_variant' THEN
            v_type := 'claim.needs_variant';
            v_data := v_data || jsonb_build_object(
                'product_code', NEW.product_code,
                'options', coalesce((
                    SELECT jsonb_object_agg(name, vals)
                      FROM (SELECT o.key AS name, jsonb_agg(DISTINCT o.value) AS vals
                              FROM products p, jsonb_each(p.options) o
                             WHERE p.product_code = NEW.product_code
                             GROUP BY o.key) per_option), '{}'::jsonb));
        WHEN 'sold_out' THEN
            v_type := 'claim.sold_out';
        ELSE
            v_type := 'claim.rejected';
            v_data := v_data || jsonb_build_object('reason', NEW.outcome);
    END CASE;
    PERFORM emit_event(v_type, 'claim:' || NEW.id || ':' || NEW.outcome, v_subject,
                       NEW.order_id, NEW.id, v_data);
    RETURN NULL;
END;
$$;

-- An order's checkout link (the link to send) and its moves to paid, expired, refunded
-- or cancelled. The link of an order in a live cart is its cart's, sent once by the cart.
CREATE OR REPLACE FUNCTION orders_emit_event() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_claim BIGINT;
BEGIN
    SELECT id INTO v_claim FROM claims WHERE order_id = NEW.id;
    IF NEW.checkout_url IS NOT NULL AND NEW.checkout_url IS DISTINCT FROM OLD.checkout_url
       AND NEW.status = 'pending' AND NEW.cart_id IS NULL THEN
        PERFORM emit_event('order.checkout_ready',
                           'order:' || NEW.id || ':checkout:' || md5(NEW.checkout_url),
                           'order:' || NEW.id, NEW.id, v_claim, order_event_data(NEW.id));
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status
       AND NEW.status IN ('paid', 'expired', 'refunded', 'cancelled') THEN
        PERFORM emit_event('order.' || NEW.status, 'order:' || NEW.id || ':' || NEW.status,
                           'order:' || NEW.id, NEW.id, v_claim, order_event_data(NEW.id));
    END IF;
    RETURN NULL;
END;
$$;

-- A live cart's checkout link (CART_MODE=live): one `order.checkout_ready` for the cart,
-- naming every order its session charges for. `expires_at` is the earliest hold's expiry.
CREATE OR REPLACE FUNCTION carts_emit_event() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_data JSONB;
BEGIN
    SELECT jsonb_build_object(
               'cart_id', NEW.id,
               'order_numbers', jsonb_agg(o.order_number ORDER BY o.id),
               'buyer', NEW.buyer,
               'streamer', NEW.streamer,
               'checkout_url', NEW.checkout_url,
               'expires_at', min(r.expires_at),
               'amount_cents', sum(o.total_cents),
               'currency', NEW.currency)
      INTO v_data
      FROM orders o
      LEFT JOIN reservations r ON r.order_id = o.id
     WHERE o.cart_id = NEW.id AND o.checkout_session_id = NEW.checkout_session_id;
    PERFORM emit_event('order.checkout_ready',
                       'cart:' || NEW.id || ':checkout:' || md5(NEW.checkout_url),
                       'cart:' || NEW.id, NULL, NULL, v_data);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER claims_event_on_insert
    AFTER INSERT ON claims
    FOR EACH ROW WHEN (NEW.outcome IS NOT NULL)
    EXECUTE FUNCTION claims_emit_event();

CREATE OR REPLACE TRIGGER claims_event_on_outcome
    AFTER UPDATE OF outcome ON claims
    FOR EACH ROW WHEN (NEW.outcome IS NOT NULL AND NEW.outcome IS DISTINCT FROM OLD.outcome)
    EXECUTE FUNCTION claims_emit_event();

CREATE OR REPLACE TRIGGER orders_event_on_change
    AFTER UPDATE OF status, checkout_url ON orders
    FOR EACH ROW WHEN (NEW.status IS DISTINCT FROM OLD.status
                       OR NEW.checkout_url IS DISTINCT FROM OLD.checkout_url)
    EXECUTE FUNCTION orders_emit_event();

CREATE OR REPLACE TRIGGER carts_event_on_checkout
    AFTER UPDATE OF checkout_url ON carts
    FOR EACH ROW WHEN (NEW.checkout_url IS NOT NULL
                       AND NEW.checkout_url IS DISTINCT FROM OLD.checkout_url)
    EXECUTE FUNCTION carts_emit_event();
