//! Stripe events → the order state machine (docs/contract.md §3).
//!
//! `data.object` is read loosely — only the fields acted on, all optional — so a change of
//! API version cannot break parsing (`docs/protocols.md` §1.4). The order is found by
//! our `ORD-…` number (`client_reference_id`, `metadata.order_id`), the Checkout Session
//! id or the PaymentIntent id. Each applied event records a `payments` row (unique per
//! Stripe event id) in the same transaction as the order change and the inbox mark, and
//! order status only moves forward: a late or repeated event is recorded, not applied.

use shopwire_core::db::carts;
use shopwire_core::db::inbox::Claimed;
use shopwire_core::db::jobs::{self, JobId};
use shopwire_core::db::orders::{self, LatePayment, ReleasedAs};
use shopwire_core::db::payments::{self, LockedOrder, NewPayment};
use shopwire_core::domain::InboxStatus;
use shopwire_core::jobs::Queue;
use sqlx::PgConnection;

use crate::attempt::{JobError, commit};
use crate::context::JobContext;
use crate::jobs::{refund_payment, run_job};
use crate::stripe::event::{Event, IdOrObject, StripeObject};

/// Stripe events by type and outcome (`applied`, `recorded`, `ignored`).
pub const STRIPE_EVENTS_TOTAL: &str = "shopwire_stripe_events_total";

/// Our order numbers; references without this prefix belong to someone else.
const ORDER_PREFIX: &str = "ORD-";

/// What an event type does to its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// Payment arrived: `pending → paid`.
    Paid,
    /// Checkout completed with a delayed payment method: wait for `async_payment_*`.
    AwaitAsync,
    /// The session lapsed or its delayed payment failed: release the hold.
    Release(ReleasedAs),
    /// A failed attempt inside Checkout; the buyer can retry there.
    PaymentFailed,
    /// Full refund → `refunded` and restock; partial → recorded.
    Refund,
    /// Flag the order and alert a human.
    Dispute,
}

impl Action {
    fn of(event: &Event) -> Option<Action> {
        Some(match event.kind.as_str() {
            "checkout.session.completed" => match event.data.object.payment_status.as_deref() {
                Some("paid" | "no_payment_required") => Action::Paid,
                _ => Action::AwaitAsync,
            },
            "checkout.session.async_payment_succeeded" => Action::Paid,
            "checkout.session.async_payment_failed" => Action::Release(ReleasedAs::Cancelled),
            "checkout.session.expired" => Action::Release(ReleasedAs::Expired),
            "payment_intent.payment_failed" => Action::PaymentFailed,
            "charge.refunded" => Action::Refund,
            "charge.dispute.created" => Action::Dispute,
            _ => return None,
        })
    }
}

/// How an event names its order.
#[derive(Debug, Default, PartialEq, Eq)]
struct Refs<'a> {
    order_number: Option<&'a str>,
    session_id: Option<&'a str>,
    payment_intent: Option<&'a str>,
}

/// `reference` when it is one of our order numbers.
fn ours(reference: &Option<String>) -> Option<&str> {
    reference.as_deref().filter(|r| r.starts_with(ORDER_PREFIX))
}

impl<'a> Refs<'a> {
    fn of(event: &'a Event) -> Refs<'a> {
        let obj = &event.data.object;
        let metadata = obj.metadata.as_ref().and_then(|m| ours(&m.order_id));
        let linked_intent = obj.payment_intent.as_ref().map(IdOrObject::id);
        if event.kind.starts_with("checkout.session.") {
            Refs {
                order_number: ours(&obj.client_reference_id).or(metadata),
                session_id: obj.id.as_deref(),
                payment_intent: linked_intent,
            }
        } else if event.kind.starts_with("payment_intent.") {
            Refs {
                order_number: metadata,
                session_id: None,
                payment_intent: obj.id.as_deref(),
            }
        } else {
            Refs {
                order_number: metadata,
                session_id: None,
                payment_intent: linked_intent,
            }
        }
    }
}

/// What applying an event did, for its `payments` row.
struct Effect {
    amount_cents: Option<i64>,
    currency: Option<String>,
    detail: String,
    /// False when the order was not in a state the event could change.
    applied: bool,
    /// A job to push once the event's transaction has committed (a refund).
    then: Option<JobId>,
}

/// Apply one Stripe event.
pub async fn apply(ctx: &JobContext, claimed: &Claimed) -> Result<InboxStatus, JobError> {
    let event: Event = serde_json::from_slice(&claimed.body)
        .map_err(|e| JobError::permanent(format!("malformed Stripe event: {e}")))?;
    let Some(action) = Action::of(&event) else {
        metrics::counter!(STRIPE_EVENTS_TOTAL, "outcome" => "ignored").increment(1);
        let tx = ctx.pool.begin().await?;
        return commit::delivery(tx, claimed, InboxStatus::Ignored).await;
    };
    let mut refs = Refs::of(&event);
    let disputed_intent = dispute_intent(ctx, &event, &refs).await?;
    if disputed_intent.is_some() {
        refs.payment_intent = disputed_intent.as_deref();
    }
    let mut tx = ctx.pool.begin().await?;
    // A live cart's session is about each of its orders (`CART_MODE=live`).
    let cart = cart_reference(&event);
    let in_cart =
        carts::orders_for_stripe(&mut tx, cart, refs.session_id, refs.payment_intent).await?;
    if let (Some(cart), true) = (cart, in_cart.is_empty()) {
        // The session was made but not stored yet (or never will be: the job dies).
        return Err(JobError::transient(format!(
            "{} names cart {cart}, whose session is not stored yet",
            event.kind
        )));
    }
    let found = if in_cart.is_empty() {
        orders::find_for_stripe(
            &mut tx,
            refs.order_number,
            refs.session_id,
            refs.payment_intent,
        )
        .await?
        .into_iter()
        .collect()
    } else {
        in_cart
    };
    let mut locked = Vec::with_capacity(found.len());
    for id in found {
        locked.extend(payments::lock_order(&mut tx, id).await?);
    }
    if locked.is_empty() {
        if let Some(number) = refs.order_number {
            return Err(JobError::permanent(format!(
                "{} names order {number}, which does not exist",
                event.kind
            )));
        }
        tracing::info!(event_type = %event.kind, "not one of our orders; ignored");
        metrics::counter!(STRIPE_EVENTS_TOTAL, "outcome" => "ignored").increment(1);
        return commit::delivery(tx, claimed, InboxStatus::Ignored).await;
    }

    // What the session charged for: the order, or every order of the cart.
    let charged_for: i64 = locked.iter().map(|order| order.total_cents).sum();
    let mut applied = false;
    let mut then = Vec::new();
    for order in &locked {
        let effect = act(&mut tx, action, &event, &refs, order, charged_for).await?;
        let recorded = payments::record(
            &mut tx,
            &NewPayment {
                order_id: order.id,
                inbox_id: claimed.id,
                stripe_event_id: &event.id,
                kind: &event.kind,
                amount_cents: effect.amount_cents,
                currency: effect.currency.as_deref(),
                detail: &effect.detail,
            },
        )
        .await?;
        if !recorded {
            // An earlier attempt committed this event (a replay): undo this one's effects.
            tx.rollback().await?;
            tracing::info!(event_type = %event.kind, order = %order.order_number, "event already applied");
            let tx = ctx.pool.begin().await?;
            return commit::delivery(tx, claimed, InboxStatus::Processed).await;
        }
        tracing::info!(
            event_type = %event.kind,
            order = %order.order_number,
            applied = effect.applied,
            detail = %effect.detail,
            "stripe event recorded"
        );
        applied |= effect.applied;
        then.extend(effect.then);
    }
    let outcome = if applied { "applied" } else { "recorded" };
    let status = commit::delivery(tx, claimed, InboxStatus::Processed).await?;
    for job in then {
        run_job::enqueue(ctx, Queue::Checkout, job).await;
    }
    metrics::counter!(STRIPE_EVENTS_TOTAL, "outcome" => outcome).increment(1);
    Ok(status)
}

/// The live cart an event names by our `CART-…` reference (`client_reference_id`,
/// `metadata.cart_id`), if any.
fn cart_reference(event: &Event) -> Option<i64> {
    let obj = &event.data.object;
    obj.client_reference_id
        .as_deref()
        .and_then(carts::parse_reference)
        .or_else(|| {
            obj.metadata
                .as_ref()
                .and_then(|m| m.cart_id.as_deref())
                .and_then(carts::parse_reference)
        })
}

/// A dispute names its charge, and in older API versions not its PaymentIntent: ask
/// Stripe for the charge's PaymentIntent, which is how the order is known.
async fn dispute_intent(
    ctx: &JobContext,
    event: &Event,
    refs: &Refs<'_>,
) -> Result<Option<String>, JobError> {
    let charge = event.data.object.charge.as_ref().map(IdOrObject::id);
    match (&ctx.stripe, charge) {
        (Some(stripe), Some(charge))
            if event.kind.starts_with("charge.dispute.")
                && refs.order_number.is_none()
                && refs.payment_intent.is_none() =>
        {
            Ok(stripe.charge_payment_intent(charge).await?)
        }
        _ => Ok(None),
    }
}

/// Apply `action` to the locked `order`, one of those (totalling `charged_for`) that the
/// event's session charges for.
async fn act(
    conn: &mut PgConnection,
    action: Action,
    event: &Event,
    refs: &Refs<'_>,
    order: &LockedOrder,
    charged_for: i64,
) -> Result<Effect, JobError> {
    let obj = &event.data.object;
    let currency = obj.currency.clone();
    let unchanged = |what: &str| format!("{what}: order already {}", order.status);
    Ok(match action {
        Action::Paid => {
            let (applied, mut detail, then) =
                if orders::mark_paid(conn, order.id, refs.payment_intent).await? {
                    (true, "paid".to_owned(), None)
                } else if order.status == "expired" {
                    late_payment(conn, order, refs.payment_intent).await?
                } else {
                    if order.status == "cancelled" {
                        tracing::error!(
                            order = %order.order_number,
                            "payment received for a cancelled order; refund or fulfil it by hand"
                        );
                    }
                    (false, unchanged("paid"), None)
                };
            if let Some(mismatch) = amount_mismatch(obj, order, charged_for) {
                detail.push_str("; ");
                detail.push_str(&mismatch);
            }
            Effect {
                amount_cents: obj.amount_total,
                currency,
                detail,
                applied,
                then,
            }
        }
        Action::AwaitAsync => {
            let applied = orders::await_payment(conn, order.id, refs.payment_intent).await?;
            Effect {
                amount_cents: obj.amount_total,
                currency,
                detail: if applied {
                    "completed; awaiting asynchronous payment".to_owned()
                } else {
                    unchanged("completed")
                },
                applied,
                then: None,
            }
        }
        Action::Release(to) => {
            let applied = orders::release(conn, order.id, to).await?;
            let what = match to {
                ReleasedAs::Expired => "expired",
                ReleasedAs::Cancelled => "cancelled",
            };
            Effect {
                amount_cents: obj.amount_total,
                currency,
                detail: if applied {
                    format!("{what}; reservation released")
                } else {
                    unchanged(what)
                },
                applied,
                then: None,
            }
        }
        Action::PaymentFailed => {
            let error = obj.last_payment_error.as_ref();
            Effect {
                amount_cents: obj.amount,
                currency,
                detail: format!(
                    "payment attempt failed: code={} decline_code={}",
                    error.and_then(|e| e.code.as_deref()).unwrap_or("-"),
                    error.and_then(|e| e.decline_code.as_deref()).unwrap_or("-"),
                ),
                applied: false,
                then: None,
            }
        }
        Action::Refund => refund(conn, obj, order).await?,
        Action::Dispute => {
            let applied = payments::flag_disputed(conn, order.id).await?;
            let reason = obj.reason.as_deref().unwrap_or("unknown");
            tracing::error!(
                order = %order.order_number,
                reason,
                amount_cents = obj.amount,
                currency = obj.currency.as_deref(),
                "charge disputed; respond before the evidence deadline"
            );
            Effect {
                amount_cents: obj.amount,
                currency,
                detail: format!(
                    "disputed: reason={reason} status={}",
                    obj.status.as_deref().unwrap_or("unknown")
                ),
                applied,
                then: None,
            }
        }
    })
}

/// `charge.refunded`: `refunded` is true only once the charge is refunded in full, and
/// `amount_refunded` is cumulative, so recording it is idempotent and order-safe.
async fn refund(
    conn: &mut PgConnection,
    obj: &StripeObject,
    order: &LockedOrder,
) -> Result<Effect, JobError> {
    let currency = obj.currency.clone();
    if obj.refunded != Some(true) {
        return Ok(Effect {
            amount_cents: obj.amount_refunded,
            currency,
            detail: format!(
                "partial refund: {} of {} refunded",
                obj.amount_refunded.unwrap_or(0),
                obj.amount.map_or_else(|| "?".to_owned(), |a| a.to_string())
            ),
            applied: false,
            then: None,
        });
    }
    if order.status == "pending" {
        // The refund overtook the payment event: retry until the payment is applied,
        // rather than record a refund the order can no longer take.
        return Err(JobError::transient(format!(
            "refund for {} arrived before its payment; retrying",
            order.order_number
        )));
    }
    let applied = orders::mark_refunded(conn, order.id).await?;
    Ok(Effect {
        amount_cents: obj.amount_refunded,
        currency,
        detail: if applied {
            "refunded in full; restocked".to_owned()
        } else {
            format!("refunded: order already {}", order.status)
        },
        applied,
        then: None,
    })
}

/// A payment for an order whose hold lapsed: honoured when its units are still there,
/// else refunded in full by a job created in this transaction (reported either way).
async fn late_payment(
    conn: &mut PgConnection,
    order: &LockedOrder,
    payment_intent: Option<&str>,
) -> Result<(bool, String, Option<JobId>), JobError> {
    match orders::honour_late_payment(conn, order.id, payment_intent).await? {
        LatePayment::Honoured => {
            tracing::warn!(order = %order.order_number, "payment arrived after the hold lapsed; stock was still there, order paid");
            Ok((
                true,
                "paid after the hold lapsed; stock taken".to_owned(),
                None,
            ))
        }
        LatePayment::NoStock => {
            let key = format!("{}{}", refund_payment::KEY_PREFIX, order.order_number);
            let job = match payment_intent {
                Some(_) => {
                    jobs::insert_once(conn, Queue::Checkout.as_str(), order.id, &key).await?
                }
                None => None,
            };
            tracing::error!(
                order = %order.order_number,
                refund_scheduled = job.is_some(),
                "payment arrived after the hold lapsed and the stock is gone; refunding it"
            );
            Ok((
                false,
                "paid after the hold lapsed; out of stock, refund scheduled".to_owned(),
                job,
            ))
        }
        LatePayment::NotExpired => {
            Ok((false, format!("paid: order already {}", order.status), None))
        }
    }
}

/// Compare what Stripe charged with what the order (or its cart: `expected` in all) says;
/// `None` when they agree or Stripe sent no amount. A mismatch is logged (an underpayment
/// or another currency as an error, for Sentry) and noted on the payment row; the payment
/// itself stands.
fn amount_mismatch(obj: &StripeObject, order: &LockedOrder, expected: i64) -> Option<String> {
    let total = obj.amount_total?;
    let currency = obj.currency.as_deref().unwrap_or(&order.currency);
    if total == expected && currency.eq_ignore_ascii_case(&order.currency) {
        return None;
    }
    let text = format!(
        "amount mismatch: order {expected} {}, charged {total} {currency}",
        order.currency
    );
    if total < expected || !currency.eq_ignore_ascii_case(&order.currency) {
        tracing::error!(order = %order.order_number, expected, charged = total, currency, "checkout amount does not match the order");
    } else {
        tracing::warn!(order = %order.order_number, expected, charged = total, currency, "checkout charged more than the order total");
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, object: serde_json::Value) -> Event {
        serde_json::from_value(serde_json::json!({
            "id": "evt_1", "type": kind, "data": { "object": object }
        }))
        .expect("parses")
    }

    #[test]
    fn sessions_name_orders_by_reference_session_and_payment_intent() {
        let e = event(
            "checkout.session.completed",
            serde_json::json!({"id": "cs_1", "client_reference_id": "ORD-20261122-00001",
                               "payment_intent": "pi_1", "payment_status": "paid"}),
        );
        assert_eq!(
            Refs::of(&e),
            Refs {
                order_number: Some("ORD-20261122-00001"),
                session_id: Some("cs_1"),
                payment_intent: Some("pi_1")
            }
        );
        assert_eq!(Action::of(&e), Some(Action::Paid));
    }

    #[test]
    fn references_that_are_not_ours_are_dropped() {
        let e = event(
            "charge.refunded",
            serde_json::json!({"id": "ch_1", "metadata": {"order_id": "ord_01J9"},
                               "payment_intent": {"id": "pi_2", "object": "payment_intent"}}),
        );
        assert_eq!(
            Refs::of(&e),
            Refs {
                order_number: None,
                session_id: None,
                payment_intent: Some("pi_2")
            }
        );
    }

    #[test]
    fn unpaid_completions_wait_and_unknown_types_are_ignored() {
        let unpaid = event(
            "checkout.session.completed",
            serde_json::json!({"payment_status": "unpaid"}),
        );
        assert_eq!(Action::of(&unpaid), Some(Action::AwaitAsync));
        let other = event("customer.created", serde_json::json!({"id": "cus_1"}));
        assert_eq!(Action::of(&other), None);
    }

    #[test]
    fn an_event_without_data_parses_and_names_no_order() {
        let e: Event =
            serde_json::from_str(r#"{"id":"evt_1","object":"event","type":"charge.refunded"}"#)
                .expect("parses");
        assert_eq!(Action::of(&e), Some(Action::Refund));
        assert_eq!(Refs::of(&e), Refs::default());
    }

    #[test]
    fn payment_intents_are_their_own_reference() {
        let e = event(
            "payment_intent.payment_failed",
            serde_json::json!({"id": "pi_3", "metadata": {"order_id": "ORD-20261122-00002"}}),
        );
        assert_eq!(
            Refs::of(&e),
            Refs {
                order_number: Some("ORD-20261122-00002"),
                session_id: None,
                payment_intent: Some("pi_3")
            }
        );
    }
}
