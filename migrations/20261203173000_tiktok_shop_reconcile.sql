-- Reconciliation (issue #15, SPEC §12): every TIKTOK_SHOP_RECONCILE_SECS the worker searches
-- each connected shop's orders updated since `reconciled_to` (a TikTok update_time, unix
-- seconds) and records any it has not applied as a delivery, so an undelivered webhook is
-- recovered through the same path webhooks take. One worker at a time per shop
-- (`reconciling_until` is its lease).
ALTER TABLE tiktok_shops
    ADD COLUMN reconciled_to        BIGINT,
    ADD COLUMN reconciled_at        TIMESTAMPTZ,
    ADD COLUMN reconciling_until    TIMESTAMPTZ,
    ADD COLUMN last_reconcile_error TEXT;
