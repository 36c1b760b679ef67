-- The allocator and the claim watch ask, for every allocation and every few milliseconds
-- while claims wait, when the earliest buyer message still unread arrived
-- (db::claims::earliest_unread_message). Over inbox_status_received that was a bitmap scan
-- of every queued row and of dead ones not yet vacuumed: 1.2 ms a call during a burst of
-- 4,000 comments, the largest single use of Postgres's time. This index answers it from
-- its first live entry.
CREATE INDEX inbox_unread_messages ON inbox (received_at)
    WHERE status IN ('queued', 'processing') AND provider IN ('comments', 'tiktok');
