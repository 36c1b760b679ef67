-- Claims the way a live sale sells (docs/contract.md §9): variants, a lineup with claim
-- codes, a block list, and one row per claim whose outcome the allocator decides.

-- A product may have variants: each its own SKU (row), grouped by `product_code` (NULL: the
-- SKU is a product of its own), with option values such as {"size": "M"}.
ALTER TABLE products
    ADD COLUMN product_code TEXT CHECK (length(product_code) BETWEEN 1 AND 128),
    ADD COLUMN options JSONB NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(options) = 'object');
CREATE INDEX products_product_code ON products ((coalesce(product_code, sku)));

-- The items of a streamer's live, each under a short claim code (A1, A2, …); `item` is a
-- SKU or a product code. Removing an item keeps its row (claims may name it).
CREATE TABLE live_lineup (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    streamer    TEXT        NOT NULL CHECK (length(streamer) BETWEEN 1 AND 256),
    code        TEXT        NOT NULL CHECK (code ~ '^[A-Z0-9]{1,8}$'),
    item        TEXT        NOT NULL CHECK (length(item) BETWEEN 1 AND 128),
    added_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    removed_at  TIMESTAMPTZ
);
CREATE UNIQUE INDEX live_lineup_open_code ON live_lineup (streamer, code) WHERE removed_at IS NULL;

-- Buyers whose claims are refused (`blocked`), by platform user id.
CREATE TABLE buyer_blocks (
    buyer       TEXT        PRIMARY KEY CHECK (length(buyer) BETWEEN 1 AND 256),
    reason      TEXT,
    blocked_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One claim per buy message. `pending` claims wait for their allocation (message time +
-- CLAIM_ORDER_WINDOW_MS); the allocator decides them in message-time order under the
-- variant's row lock. `waiting` claims are on the variant's waitlist; `lapsed` ones left
-- it unserved. Every claim has exactly one first outcome; a waitlisted one may later be
-- `promoted`.
CREATE TABLE claims (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id    BIGINT      NOT NULL UNIQUE REFERENCES messages (id),
    streamer      TEXT,
    buyer         TEXT        NOT NULL,
    channel       TEXT        NOT NULL CHECK (channel IN ('dm', 'comment')),
    product_id    BIGINT      REFERENCES products (id),
    product_code  TEXT,
    quantity      INTEGER     NOT NULL CHECK (quantity BETWEEN 1 AND 100),
    message_time  TIMESTAMPTZ NOT NULL,
    received_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    due_at        TIMESTAMPTZ NOT NULL,
    status        TEXT        NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'waiting', 'decided', 'lapsed')),
    outcome       TEXT CHECK (outcome IN ('reserved', 'waitlisted', 'promoted', 'needs_variant',
                                          'sold_out', 'unmatched', 'limit_reached', 'blocked',
                                          'already_held')),
    order_id      BIGINT      REFERENCES orders (id),
    waitlist_expires_at TIMESTAMPTZ,
    decided_at    TIMESTAMPTZ,
    CHECK ((status = 'pending') = (outcome IS NULL)),
    CHECK (status <> 'waiting' OR (outcome = 'waitlisted' AND waitlist_expires_at IS NOT NULL)),
    CHECK (status IN ('decided', 'lapsed') OR product_id IS NOT NULL)
);
CREATE INDEX claims_open_by_variant ON claims (product_id, message_time, id)
    WHERE status IN ('pending', 'waiting');
CREATE INDEX claims_by_time ON claims (received_at DESC);
CREATE INDEX claims_streamer_time ON claims (streamer, received_at DESC);

-- A message's decision now names its claim's outcome.
ALTER TABLE messages DROP CONSTRAINT messages_outcome_check;
ALTER TABLE messages ADD CONSTRAINT messages_outcome_check CHECK (outcome IN (
    'ordered', 'sold_out', 'unmatched', 'below_threshold', 'not_buy', 'duplicate_pending',
    'claimed', 'reserved', 'waitlisted', 'promoted', 'needs_variant', 'limit_reached',
    'blocked', 'already_held'));
