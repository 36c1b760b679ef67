//! The TikTok Shop part of `orders show`: the TikTok order id and shop, each delivery about
//! it and what it did, its lines, and its returns — so one id found anywhere (the order
//! number, TikTok's order id, an inbox id) leads to the rest.

use std::fmt::Write as _;

use shopwire_core::db::orders::{OrderLine, OrderRow, TiktokTrace};
use shopwire_core::domain::Money;

use crate::output::{or_dash, time};

/// Append the TikTok Shop lines of `order`'s chain to `s`.
pub(super) fn human(s: &mut String, order: &OrderRow, t: &TiktokTrace) {
    let _ = writeln!(
        s,
        "  tiktok       order {} in shop {}, {} (update_time {})",
        t.tiktok_order_id,
        or_dash(t.shop_id.as_deref()),
        or_dash(t.tiktok_status.as_deref()),
        or_dash(t.tiktok_update_time)
    );
    if t.deliveries.is_empty() {
        let _ = writeln!(s, "  delivery     -");
    }
    for d in &t.deliveries {
        let _ = writeln!(
            s,
            "  delivery     inbox #{} (tiktok_shop, topic {}) {} at {}: {}  {}",
            d.inbox_id,
            d.topic,
            d.tiktok_status,
            or_dash(d.update_time),
            d.outcome,
            time(&d.received_at)
        );
    }
    if order.lines.is_empty() {
        let _ = writeln!(s, "  lines        - (not fetched from TikTok yet)");
    }
    for line in &order.lines {
        let _ = writeln!(s, "  line         {}", line_text(line, &order.currency));
    }
    for r in &t.returns {
        let _ = writeln!(
            s,
            "  return       {} {} {} (inbox #{}), {} restocked  {}",
            r.return_id,
            or_dash(r.return_type.as_deref()),
            r.return_status,
            r.inbox_id,
            r.restocked,
            time(&r.created_at)
        );
    }
}

/// `#1 SKU × 2 @ 12.00 usd "title" (product #4), 2 committed`.
fn line_text(line: &OrderLine, currency: &str) -> String {
    let price = line
        .unit_price_cents
        .map(|c| format!(" @ {} {currency}", Money::stored_amount(c, Some(currency))))
        .unwrap_or_default();
    let product = match line.product_id {
        Some(id) => format!("product #{id}"),
        None => "no product of ours".to_owned(),
    };
    let mut text = format!(
        "#{} {} × {}{price} {:?} (tiktok sku {}, {product}), {} committed",
        line.line_no,
        or_dash(line.seller_sku.as_deref()),
        line.quantity,
        line.title.as_deref().unwrap_or(""),
        or_dash(line.tiktok_sku_id.as_deref()),
        line.committed
    );
    if line.returned > 0 {
        let _ = write!(text, ", {} returned", line.returned);
    }
    text
}
