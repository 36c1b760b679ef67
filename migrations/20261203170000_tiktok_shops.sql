-- Connected TikTok Shop sellers (issue #15, SPEC §12). A seller authorizes the app once and
-- that grant covers every shop the seller runs: the tokens belong to the grant, each shop
-- has its own `shop_cipher` (sent on every API call for that shop) and its own status.
--
-- Tokens are stored as TikTok issued them. Nothing logs them and the Rust types holding them
-- are `SecretString`s; whoever can read this table can act as the shop, so it is guarded like
-- the database's other credentials.
CREATE TABLE tiktok_shop_grants (
    id                       BIGSERIAL PRIMARY KEY,
    -- The seller's id for this app: the same seller connecting again updates this row.
    open_id                  TEXT NOT NULL UNIQUE,
    seller_name              TEXT NOT NULL DEFAULT '',
    seller_base_region       TEXT NOT NULL DEFAULT '',
    access_token             TEXT NOT NULL,
    access_token_expires_at  TIMESTAMPTZ NOT NULL,
    refresh_token            TEXT NOT NULL,
    refresh_token_expires_at TIMESTAMPTZ NOT NULL,
    connected_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    refreshed_at             TIMESTAMPTZ,
    -- A refresh TikTok refused: how many in a row, the last reason (TikTok's code and
    -- message, never a token), and when to try again.
    refresh_failures         INT NOT NULL DEFAULT 0,
    last_refresh_error       TEXT,
    retry_refresh_at         TIMESTAMPTZ
);

-- The refresher looks for grants whose access token expires soon.
CREATE INDEX tiktok_shop_grants_expiry ON tiktok_shop_grants (access_token_expires_at);

CREATE TABLE tiktok_shops (
    shop_id          TEXT PRIMARY KEY,
    grant_id         BIGINT NOT NULL REFERENCES tiktok_shop_grants (id),
    shop_cipher      TEXT NOT NULL,
    name             TEXT NOT NULL DEFAULT '',
    region           TEXT NOT NULL DEFAULT '',
    code             TEXT NOT NULL DEFAULT '',
    -- `disconnected` after the seller revoked the app (topic 6, SELLER_DEAUTHORIZATION) or
    -- when a new connection of the same seller no longer lists the shop.
    status           TEXT NOT NULL DEFAULT 'connected'
                     CHECK (status IN ('connected', 'disconnected')),
    connected_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    disconnected_at  TIMESTAMPTZ,
    CHECK ((status = 'disconnected') = (disconnected_at IS NOT NULL))
);

CREATE INDEX tiktok_shops_grant ON tiktok_shops (grant_id);
