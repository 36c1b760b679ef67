-- Later-stage jobs (checkout creation, buyer replies, trend scoring) tied to their inbox row.
-- Like the inbox, this table is the truth about a job: Redis carries only the id.
CREATE TABLE jobs (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue            TEXT        NOT NULL,
    inbox_id         BIGINT      REFERENCES inbox (id),
    subject_id       BIGINT,
    idempotency_key  TEXT        NOT NULL UNIQUE,
    status           TEXT        NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'processing', 'processed', 'failed', 'dead')),
    attempts         INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    locked_until     TIMESTAMPTZ,
    last_error       TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    processed_at     TIMESTAMPTZ
);
CREATE INDEX jobs_pending ON jobs (next_attempt_at) WHERE status IN ('queued', 'processing', 'failed');

-- The dead-letter queue: never capped, never silently pruned; replay moves a job back.
CREATE TABLE dead_jobs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue       TEXT        NOT NULL,
    inbox_id    BIGINT      REFERENCES inbox (id),
    job_id      BIGINT      REFERENCES jobs (id),
    attempts    INTEGER     NOT NULL,
    last_error  TEXT        NOT NULL,
    died_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    replayed_at TIMESTAMPTZ
);
CREATE INDEX dead_jobs_open ON dead_jobs (queue, died_at) WHERE replayed_at IS NULL;
