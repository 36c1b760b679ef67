-- Retention (issue #11): a settled delivery's body can be erased (`inbox purge`, the worker's
-- periodic purge with INBOX_RETENTION_DAYS, `buyers forget`). The body column stays NOT NULL
-- and becomes the empty bytea; `body_purged_at` says when, so readers can tell an erased body
-- from one that was empty. The row itself (provider, dedupe key, status, times) stays: it is
-- what keeps a retried delivery a duplicate and traces an order to its webhook.
ALTER TABLE inbox ADD COLUMN body_purged_at TIMESTAMPTZ;
ALTER TABLE inbox ADD CONSTRAINT inbox_purged_body_is_empty
    CHECK (body_purged_at IS NULL OR length(body) = 0);

-- The purge looks for settled rows not yet purged, oldest settlement first.
CREATE INDEX inbox_unpurged_settled ON inbox ((coalesce(processed_at, received_at)), id)
    WHERE body_purged_at IS NULL AND status IN ('processed', 'ignored', 'rejected');
