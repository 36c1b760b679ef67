-- Products and what the streamer has on screen.
CREATE TABLE products (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku            TEXT        NOT NULL UNIQUE CHECK (length(sku) BETWEEN 1 AND 128),
    title          TEXT        NOT NULL CHECK (length(title) BETWEEN 1 AND 512),
    price_cents    BIGINT      NOT NULL CHECK (price_cents >= 0),
    currency       TEXT        NOT NULL DEFAULT 'usd' CHECK (currency ~ '^[a-z]{3}$'),
    stock_on_hand  INTEGER     NOT NULL CHECK (stock_on_hand >= 0),
    reserved       INTEGER     NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- No oversell: a reservation can never exceed what is on hand.
    CONSTRAINT products_reserved_within_stock CHECK (reserved <= stock_on_hand)
);

-- One row per pin; the pinned product at time T is the latest pin started at or before T
-- and not ended before T.
CREATE TABLE live_pins (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    streamer    TEXT        NOT NULL CHECK (length(streamer) BETWEEN 1 AND 256),
    product_id  BIGINT      NOT NULL REFERENCES products (id),
    pinned_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    unpinned_at TIMESTAMPTZ,
    CHECK (unpinned_at IS NULL OR unpinned_at >= pinned_at)
);
CREATE INDEX live_pins_streamer_time ON live_pins (streamer, pinned_at DESC);
-- At most one open pin per streamer.
CREATE UNIQUE INDEX live_pins_one_open ON live_pins (streamer) WHERE unpinned_at IS NULL;
