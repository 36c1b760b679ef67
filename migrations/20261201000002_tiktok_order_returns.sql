-- TikTok Shop returns: a refunded return gives back only the units its buyer sent back
-- (none for a refund-only return), and each return does so once.

-- Units of a line given back by returns. `committed` stays the units still off
-- `products.stock_on_hand`: a return lowers it by what it gives back, so a later
-- cancellation or return can never put back a unit twice.
ALTER TABLE tiktok_order_lines
    ADD COLUMN returned INTEGER NOT NULL DEFAULT 0 CHECK (returned >= 0),
    ADD CONSTRAINT tiktok_order_lines_returned_le_quantity CHECK (returned + committed <= quantity);

-- One row per refunded TikTok Shop return (`return_id`), written in the transaction that
-- restocks it: the same return delivered again finds its row and moves nothing.
CREATE TABLE tiktok_order_returns (
    return_id     TEXT        PRIMARY KEY CHECK (length(return_id) BETWEEN 1 AND 64),
    order_id      BIGINT      NOT NULL REFERENCES orders (id),
    inbox_id      BIGINT      NOT NULL REFERENCES inbox (id),
    return_type   TEXT,
    return_status TEXT        NOT NULL,
    restocked     INTEGER     NOT NULL DEFAULT 0 CHECK (restocked >= 0),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX tiktok_order_returns_order ON tiktok_order_returns (order_id);
