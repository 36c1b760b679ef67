-- Stripe as it really behaves (docs/protocols.md §1): requests fixed once per idempotency
-- key, delayed payment methods, and payments that land after a hold lapsed.

-- A job's outbound request, rendered once before its first call and sent as these exact
-- bytes on every retry: Stripe refuses an idempotency key reused with other parameters,
-- so an edit to the product or the redirect URLs must not change a retry.
ALTER TABLE jobs ADD COLUMN request_body TEXT;

-- Checkout completed with a delayed payment method (a bank debit, …): the hold stays
-- until Stripe reports that the payment succeeded or failed, whatever its expiry says.
ALTER TABLE orders ADD COLUMN awaiting_payment BOOLEAN NOT NULL DEFAULT false;

-- Order status only moves forward, with one exception taken only with a payment in hand:
-- a payment that lands on an order whose hold lapsed (`expired`) is honoured when stock
-- allows (`expired → paid`); otherwise it is refunded and the order stays expired.
CREATE OR REPLACE FUNCTION orders_status_moves_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = OLD.status THEN
        RETURN NEW;
    END IF;
    IF (OLD.status, NEW.status) IN (
        ('pending', 'paid'), ('pending', 'expired'), ('pending', 'cancelled'),
        ('expired', 'paid'),
        ('paid', 'fulfilled'), ('paid', 'refunded'), ('paid', 'cancelled'),
        ('fulfilled', 'refunded')
    ) THEN
        NEW.updated_at := now();
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'order % cannot move from % to %', OLD.order_number, OLD.status, NEW.status
        USING ERRCODE = 'check_violation';
END;
$$;
