-- Generated from crates/shopwire-core/sql/tiktok_inventory.sql by scripts/sql-migration.sh: edit that file, not this one.

-- Inventory out (docs/tiktok-shop.md): every change of a linked SKU's available stock
-- (stock_on_hand - reserved) is copied to its link with a new version in the same
-- transaction, whatever made it — a hold, a payment, a lapse, a refund, a TikTok Shop order,
-- `inventory set`. Product rows are updated one transaction at a time, so versions follow
-- the changes' order. The worker pushes what is new; a rolled-back change leaves nothing.
CREATE OR REPLACE FUNCTION tiktok_inventory_changed() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.stock_on_hand - NEW.reserved IS DISTINCT FROM OLD.stock_on_hand - OLD.reserved THEN
        UPDATE tiktok_inventory_links
           SET version = version + 1, available = NEW.stock_on_hand - NEW.reserved
         WHERE product_id = NEW.id;
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS tiktok_inventory_changed ON products;
CREATE TRIGGER tiktok_inventory_changed
    AFTER UPDATE OF stock_on_hand, reserved ON products
    FOR EACH ROW EXECUTE FUNCTION tiktok_inventory_changed();
