-- Live carts (docs/contract.md §10, `CART_MODE=live`): a buyer's holds from one live share
-- one Checkout Session with a line per hold.
--
-- The allocator (`allocate_claims`) puts a reserved claim in its buyer's open cart for the
-- streamer, or opens one, and pushes `settle_at` to `CART_SETTLE_SECS` from then. The
-- cart's checkout job (`cart:<id>`, due at `settle_at`) closes it to new holds
-- (`checkout`: a later claim opens a new cart) and creates its session, stored on the cart
-- and on every order in it. A cart that ended without a session (its holds went first)
-- is `closed`. One session charges one currency, so a cart holds one currency.
CREATE TABLE carts (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    buyer               TEXT        NOT NULL,
    streamer            TEXT        NOT NULL,
    currency            TEXT        NOT NULL,
    status              TEXT        NOT NULL DEFAULT 'open'
                        CHECK (status IN ('open', 'checkout', 'closed')),
    settle_at           TIMESTAMPTZ NOT NULL,
    checkout_session_id TEXT UNIQUE,
    checkout_url        TEXT,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (checkout_session_id IS NULL OR status = 'checkout')
);
-- A buyer has at most one open cart per live (and currency): the allocator's upsert target.
CREATE UNIQUE INDEX carts_one_open ON carts (buyer, streamer, currency) WHERE status = 'open';

ALTER TABLE orders ADD COLUMN cart_id BIGINT REFERENCES carts (id);
CREATE INDEX orders_cart ON orders (cart_id) WHERE cart_id IS NOT NULL;

-- The orders of a cart share its session, so a session id no longer names one order.
ALTER TABLE orders DROP CONSTRAINT orders_checkout_session_id_key;
CREATE INDEX orders_checkout_session ON orders (checkout_session_id)
    WHERE checkout_session_id IS NOT NULL;

-- A Stripe event about a cart's session applies to each of its orders: one payments row
-- per event and order (still at most one per event for an order of its own).
ALTER TABLE payments DROP CONSTRAINT payments_stripe_event_id_key;
ALTER TABLE payments DROP CONSTRAINT payments_inbox_id_key;
ALTER TABLE payments ADD CONSTRAINT payments_event_order
    UNIQUE NULLS NOT DISTINCT (stripe_event_id, order_id);
CREATE INDEX payments_inbox ON payments (inbox_id);
