-- The bare reserve transaction: lock a product row, take one unit, insert the order.
-- Hot:    pgbench -n -M prepared -f bench/pgbench/reserve.sql -D rows=1   -c 8 -j 2 -T 10 DB
-- Spread: pgbench -n -M prepared -f bench/pgbench/reserve.sql -D rows=100 -c 8 -j 2 -T 10 DB
-- (after psql DB -f bench/pgbench/setup.sql). Synchronous commit stays on.
\set pid random(1, :rows)
\set buyer random(1, 1000000000)
BEGIN;
SELECT stock_on_hand - reserved FROM pgb_products WHERE id = :pid FOR UPDATE;
UPDATE pgb_products SET reserved = reserved + 1, updated_at = now() WHERE id = :pid;
INSERT INTO pgb_orders (product_id, buyer, total_cents) VALUES (:pid, 'buyer-' || :buyer, 1000);
COMMIT;
