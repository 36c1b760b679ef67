//! Reminders told through the outbox: `hold.expiring` (docs/contract.md §10), sent
//! `HOLD_REMINDER_SECS` before an unpaid hold lapses, so the seller's bot can send the
//! checkout link again while the buyer can still pay.

use std::time::Duration;

use sqlx::PgPool;

/// Emit `hold.expiring` (once per order: its dedupe key) for up to `limit` unpaid holds
/// that have a checkout link and lapse within `ahead`. Returns how many were emitted.
pub async fn emit_hold_expiring(
    pool: &PgPool,
    ahead: Duration,
    limit: i64,
) -> Result<i64, sqlx::Error> {
    let (emitted,): (i64,) = sqlx::query_as(
        "SELECT count(event) FROM (
             SELECT emit_event('hold.expiring', 'order:' || o.id || ':hold.expiring',
                               'order:' || o.id, o.id, c.id, order_event_data(o.id)) AS event
               FROM reservations r
               JOIN orders o ON o.id = r.order_id
               LEFT JOIN claims c ON c.order_id = o.id
              WHERE r.status = 'held'
                AND r.expires_at > now()
                AND r.expires_at <= now() + make_interval(secs => $1)
                AND o.status = 'pending' AND NOT o.awaiting_payment
                AND o.checkout_url IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM outbox_events e
                                 WHERE e.dedupe_key = 'order:' || o.id || ':hold.expiring')
              ORDER BY r.expires_at
              LIMIT $2) reminded",
    )
    .bind(ahead.as_secs_f64())
    .bind(limit)
    .fetch_one(pool)
    .await?;
    Ok(emitted)
}
