-- TikTok Shop orders: their line items (from Get Order Detail) and every notification
-- applied to them. The order itself is a row of `orders` with source 'tiktok_shop'.

-- One row per distinct SKU of a TikTok Shop order. `committed` is how many units this
-- line took off `products.stock_on_hand` (at most `quantity`; less when stock ran short),
-- so a cancel or refund puts back exactly what was taken, once.
CREATE TABLE tiktok_order_lines (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id         BIGINT      NOT NULL REFERENCES orders (id),
    line_no          INTEGER     NOT NULL CHECK (line_no >= 1),
    seller_sku       TEXT,
    tiktok_sku_id    TEXT,
    title            TEXT,
    product_id       BIGINT      REFERENCES products (id),
    quantity         INTEGER     NOT NULL CHECK (quantity > 0),
    unit_price_cents BIGINT      CHECK (unit_price_cents >= 0),
    committed        INTEGER     NOT NULL DEFAULT 0 CHECK (committed BETWEEN 0 AND quantity),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT tiktok_order_lines_order_line UNIQUE (order_id, line_no),
    -- Only a line matched to one of our products can move stock.
    CHECK (product_id IS NOT NULL OR committed = 0)
);

-- What each TikTok Shop notification did: one row per inbox delivery of topics 1, 11, 12.
CREATE TABLE tiktok_order_events (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    inbox_id         BIGINT      NOT NULL UNIQUE REFERENCES inbox (id),
    order_id         BIGINT      REFERENCES orders (id),
    tiktok_order_id  TEXT        NOT NULL,
    topic            INTEGER     NOT NULL,
    tiktok_status    TEXT        NOT NULL,
    update_time      BIGINT,
    outcome          TEXT        NOT NULL
                     CHECK (outcome IN ('applied', 'stale', 'illegal', 'recorded', 'unknown_order')),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX tiktok_order_events_order ON tiktok_order_events (tiktok_order_id, id);
