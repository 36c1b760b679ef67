-- The inbox: every webhook delivery, byte-exact, keyed by the provider's dedupe key.
-- It is also the job record of a delivery's first stage: status, attempts, schedule,
-- lease and last error live here, so Redis only ever carries an id.
CREATE TABLE inbox (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider         TEXT        NOT NULL CHECK (provider IN ('stripe', 'tiktok_shop', 'tiktok', 'comments')),
    dedupe_key       TEXT        NOT NULL CHECK (length(dedupe_key) BETWEEN 1 AND 512),
    event_type       TEXT,
    body             BYTEA       NOT NULL,
    status           TEXT        NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'processing', 'processed', 'ignored', 'rejected', 'failed', 'dead')),
    attempts         INTEGER     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    locked_until     TIMESTAMPTZ,
    locked_by        TEXT,
    last_error       TEXT,
    received_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    enqueued_at      TIMESTAMPTZ,
    processed_at     TIMESTAMPTZ,
    CONSTRAINT inbox_provider_dedupe_key UNIQUE (provider, dedupe_key)
);

-- The sweeper and the scheduler look for work that is due and not finished.
CREATE INDEX inbox_pending ON inbox (next_attempt_at)
    WHERE status IN ('queued', 'processing', 'failed');
CREATE INDEX inbox_received ON inbox (received_at DESC);
CREATE INDEX inbox_status_received ON inbox (status, received_at DESC);
