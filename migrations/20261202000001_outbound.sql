-- Outbound events (docs/contract.md §10): endpoints the seller registers, an outbox written
-- in the same transaction as the change each event reports, and one delivery row per event
-- and subscribed endpoint, run like every other job (status, attempts, lease, DLQ).

-- One fencing scheme for every job table: the lease holder, as the inbox already has.
ALTER TABLE jobs ADD COLUMN locked_by TEXT;

-- Where events go. `event_types` holds the subscribed types, or '*' for all of them. The
-- secret signs every delivery; during a rotation the previous one signs too, until
-- `previous_secret_expires_at`.
CREATE TABLE endpoints (
    id                         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url                        TEXT        NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    description                TEXT,
    event_types                TEXT[]      NOT NULL DEFAULT '{*}' CHECK (cardinality(event_types) > 0),
    secret                     TEXT        NOT NULL CHECK (secret LIKE 'whsec\_%'),
    previous_secret            TEXT,
    previous_secret_expires_at TIMESTAMPTZ,
    disabled_at                TIMESTAMPTZ,
    disabled_reason            TEXT,
    removed_at                 TIMESTAMPTZ,
    created_at                 TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                 TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL))
);

-- What happened, once. `dedupe_key` names the change (`claim:42:reserved`), so a change
-- that is applied twice cannot report itself twice. `order_id` orders the events about one
-- order; `subject` is the ordering key deliveries follow (`order:7`, or `claim:42` for a
-- claim without an order).
CREATE TABLE outbox_events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_type   TEXT        NOT NULL,
    dedupe_key   TEXT        NOT NULL UNIQUE,
    subject      TEXT,
    order_id     BIGINT      REFERENCES orders (id),
    claim_id     BIGINT      REFERENCES claims (id),
    data         JSONB       NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    occurred_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX outbox_events_occurred ON outbox_events (occurred_at DESC);
CREATE INDEX outbox_events_order ON outbox_events (order_id) WHERE order_id IS NOT NULL;

-- Each event for each endpoint subscribed when it happened: a job on the `outbound` queue.
CREATE TABLE outbound_deliveries (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id         BIGINT      NOT NULL REFERENCES outbox_events (id),
    endpoint_id      BIGINT      NOT NULL REFERENCES endpoints (id),
    subject          TEXT,
    status           TEXT        NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'processing', 'processed', 'failed', 'dead')),
    attempts         INTEGER     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    locked_by        TEXT,
    locked_until     TIMESTAMPTZ,
    last_error       TEXT,
    last_status_code INTEGER,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    processed_at     TIMESTAMPTZ,
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX outbound_deliveries_pending ON outbound_deliveries (next_attempt_at)
    WHERE status IN ('queued', 'processing', 'failed');
-- Per-subject order: a delivery waits for the earlier unfinished ones of its subject.
CREATE INDEX outbound_deliveries_subject ON outbound_deliveries (endpoint_id, subject, id)
    WHERE status IN ('queued', 'processing', 'failed') AND subject IS NOT NULL;
CREATE INDEX outbound_deliveries_endpoint ON outbound_deliveries (endpoint_id, id DESC);

-- Every HTTP attempt, for `endpoints show` and the console.
CREATE TABLE outbound_attempts (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id   BIGINT      NOT NULL REFERENCES outbound_deliveries (id),
    attempt       INTEGER     NOT NULL,
    status_code   INTEGER,
    error         TEXT,
    duration_ms   INTEGER     NOT NULL,
    attempted_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX outbound_attempts_delivery ON outbound_attempts (delivery_id, id DESC);

-- The DLQ names outbound deliveries too.
ALTER TABLE dead_jobs ADD COLUMN outbound_delivery_id BIGINT REFERENCES outbound_deliveries (id);
