-- The seller console's live page (docs/contract.md §11) reads a streamer's latest claim events
-- from the outbox: its rendered feed is the outbox itself, so a page and its stream agree.
CREATE INDEX outbox_events_claims_by_streamer
    ON outbox_events ((data ->> 'streamer'), id DESC)
    WHERE event_type LIKE 'claim.%';
