-- Buyer messages (DMs and live comments) and what the classifier made of them.
CREATE TABLE messages (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    inbox_id      BIGINT      NOT NULL UNIQUE REFERENCES inbox (id),
    channel       TEXT        NOT NULL CHECK (channel IN ('dm', 'comment')),
    streamer      TEXT,
    buyer         TEXT        NOT NULL,
    conversation  TEXT,
    text          TEXT        NOT NULL,
    sent_at       TIMESTAMPTZ NOT NULL,
    intent        TEXT CHECK (intent IN ('buy', 'question', 'feedback', 'complaint', 'other')),
    intent_score  REAL CHECK (intent_score BETWEEN 0 AND 1),
    classifier    TEXT,
    product_id    BIGINT REFERENCES products (id),
    match_score   REAL CHECK (match_score BETWEEN 0 AND 1),
    outcome       TEXT CHECK (outcome IN ('ordered', 'sold_out', 'unmatched', 'below_threshold', 'not_buy', 'duplicate_pending')),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Orders from buyer messages (source 'message') and from TikTok Shop (source 'tiktok_shop').
CREATE TABLE orders (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_number        TEXT        NOT NULL UNIQUE,
    source              TEXT        NOT NULL CHECK (source IN ('message', 'tiktok_shop')),
    message_id          BIGINT UNIQUE REFERENCES messages (id),      -- one message, at most one order
    tiktok_order_id     TEXT UNIQUE,
    tiktok_status       TEXT,
    tiktok_update_time  BIGINT,
    product_id          BIGINT REFERENCES products (id),
    buyer               TEXT        NOT NULL,
    quantity            INTEGER     NOT NULL DEFAULT 1 CHECK (quantity > 0),
    total_cents         BIGINT      NOT NULL CHECK (total_cents >= 0),
    currency            TEXT        NOT NULL DEFAULT 'usd',
    status              TEXT        NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'paid', 'fulfilled', 'expired', 'refunded', 'cancelled')),
    checkout_session_id TEXT UNIQUE,
    checkout_url        TEXT,
    payment_intent_id   TEXT,
    disputed            BOOLEAN     NOT NULL DEFAULT false,
    stock_committed     BOOLEAN     NOT NULL DEFAULT false,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (source <> 'message' OR message_id IS NOT NULL)
);
CREATE INDEX orders_status_created ON orders (status, created_at DESC);
CREATE INDEX orders_payment_intent ON orders (payment_intent_id) WHERE payment_intent_id IS NOT NULL;
-- One buyer holds at most one pending order per product.
CREATE UNIQUE INDEX orders_one_pending_per_buyer_product
    ON orders (buyer, product_id) WHERE status = 'pending' AND source = 'message';

-- Order numbers ORD-YYYYMMDD-NNNNN take NNNNN from a sequence: a counter row would be a
-- lock every order in the shop queues behind; a sequence never blocks.
CREATE SEQUENCE order_number_seq;

-- Order status only moves forward; late or repeated events can never move it back.
-- Handlers update conditionally; this trigger is the backstop that makes a bug loud.
CREATE FUNCTION orders_status_moves_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = OLD.status THEN
        RETURN NEW;
    END IF;
    IF (OLD.status, NEW.status) IN (
        ('pending', 'paid'), ('pending', 'expired'), ('pending', 'cancelled'),
        ('paid', 'fulfilled'), ('paid', 'refunded'), ('paid', 'cancelled'),
        ('fulfilled', 'refunded')
    ) THEN
        NEW.updated_at := now();
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'order % cannot move from % to %', OLD.order_number, OLD.status, NEW.status
        USING ERRCODE = 'check_violation';
END;
$$;

CREATE TRIGGER orders_status_forward_only
    BEFORE UPDATE OF status ON orders
    FOR EACH ROW EXECUTE FUNCTION orders_status_moves_forward();

CREATE TABLE reservations (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id     BIGINT      NOT NULL UNIQUE REFERENCES orders (id),
    product_id   BIGINT      NOT NULL REFERENCES products (id),
    quantity     INTEGER     NOT NULL CHECK (quantity > 0),
    status       TEXT        NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'committed', 'released')),
    expires_at   TIMESTAMPTZ NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    released_at  TIMESTAMPTZ
);
CREATE INDEX reservations_held_expiry ON reservations (expires_at) WHERE status = 'held';

-- Payment events applied to orders (one row per Stripe event that touched an order).
CREATE TABLE payments (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id         BIGINT      REFERENCES orders (id),
    inbox_id         BIGINT      NOT NULL UNIQUE REFERENCES inbox (id),
    stripe_event_id  TEXT        NOT NULL UNIQUE,
    kind             TEXT        NOT NULL,
    amount_cents     BIGINT,
    currency         TEXT,
    detail           TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
