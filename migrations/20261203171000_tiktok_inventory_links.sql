-- Inventory out (issue #15, SPEC §12): a SKU linked to a TikTok Shop SKU has its available
-- stock (stock_on_hand - reserved) pushed to TikTok Shop after every change, so a live and
-- the shop cannot oversell each other.
--
-- `available` and `version` are set in the transaction of every change of the SKU's
-- available stock (the trigger in crates/shopwire-core/sql/tiktok_inventory.sql), so no code
-- path can forget to report one and the pair is always consistent; `pushed_version` is the
-- newest version TikTok Shop was told, and only ever moves forward.
CREATE TABLE tiktok_inventory_links (
    product_id         BIGINT PRIMARY KEY REFERENCES products (id),
    shop_id            TEXT NOT NULL REFERENCES tiktok_shops (shop_id),
    tiktok_product_id  TEXT NOT NULL CHECK (length(tiktok_product_id) BETWEEN 1 AND 64),
    tiktok_sku_id      TEXT NOT NULL CHECK (length(tiktok_sku_id) BETWEEN 1 AND 64),
    available          INT NOT NULL,
    version            BIGINT NOT NULL DEFAULT 1,
    pushed_version     BIGINT NOT NULL DEFAULT 0,
    pushed_quantity    INT,
    pushed_at          TIMESTAMPTZ,
    -- One pusher at a time per link: a lease longer than one request's timeout, so a slow
    -- push finishes (or fails) before another may start and overtake it.
    pushing_until      TIMESTAMPTZ,
    -- A push TikTok refused or that failed: tried again after `retry_at`.
    push_failures      INT NOT NULL DEFAULT 0,
    last_push_error    TEXT,
    retry_at           TIMESTAMPTZ,
    linked_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (shop_id, tiktok_sku_id),
    CHECK (pushed_version <= version)
);

-- The pusher looks for links with something new to tell.
CREATE INDEX tiktok_inventory_links_unpushed ON tiktok_inventory_links (product_id)
    WHERE version > pushed_version;
