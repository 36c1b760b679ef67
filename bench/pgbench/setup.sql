-- Scratch tables for the reserve reference (bench/pgbench/reserve.sql): the shape of
-- shopwire's products and orders, without its triggers, checks on text or other columns.
-- Safe to re-run; never point this at a database you care about.
DROP TABLE IF EXISTS pgb_orders, pgb_products;

CREATE TABLE pgb_products (
    id            INTEGER     PRIMARY KEY,
    stock_on_hand INTEGER     NOT NULL,
    reserved      INTEGER     NOT NULL DEFAULT 0,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (reserved <= stock_on_hand)
);

-- 100 rows: the hot variant uses row 1 only, the spread variant all of them.
INSERT INTO pgb_products (id, stock_on_hand)
SELECT g, 1000000000 FROM generate_series(1, 100) AS g;

CREATE TABLE pgb_orders (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id  INTEGER     NOT NULL REFERENCES pgb_products (id),
    buyer       TEXT        NOT NULL,
    quantity    INTEGER     NOT NULL DEFAULT 1,
    total_cents BIGINT      NOT NULL,
    status      TEXT        NOT NULL DEFAULT 'pending',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

VACUUM ANALYZE pgb_products;
