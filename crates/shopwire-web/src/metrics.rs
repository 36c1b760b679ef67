//! Names of the web's metrics; the recorder lives in `shopwire_core::telemetry::metrics`.

/// Ingest latency histogram (seconds), by provider and outcome.
pub const INGEST_SECONDS: &str = "shopwire_ingest_seconds";
/// Deliveries by provider and outcome.
pub const DELIVERIES_TOTAL: &str = "shopwire_deliveries_total";
/// Deliveries shed at `WEBHOOK_MAX_IN_FLIGHT` (answered 503 before any work; not in
/// [`DELIVERIES_TOTAL`], which counts the deliveries the handler ran for).
pub const DELIVERIES_SHED_TOTAL: &str = "shopwire_deliveries_shed_total";
/// Enqueue failures (the sweeper will enqueue those deliveries later).
pub const ENQUEUE_FAILURES_TOTAL: &str = "shopwire_enqueue_failures_total";
/// Deliveries per inbox INSERT (the group commit's batch size).
pub const INBOX_BATCH_SIZE: &str = "shopwire_inbox_batch_size";
