//! Get Order Detail (202309): the response, and what we keep of it.

use reqwest::Method;
use serde::Deserialize;
use shopwire_core::db::tiktok_orders::{Details, NewLine};
use shopwire_core::domain::{Currency, Money};

use crate::api::{ApiError, ShopCall, TiktokShopApi, transient, unreadable};

/// Get Order Detail, version 202309.
pub const ORDER_DETAIL_PATH: &str = "/order/202309/orders";

impl TiktokShopApi {
    /// Get Order Detail for one order of `shop`: its buyer, total and lines.
    pub async fn order_detail(&self, shop: &ShopCall, order_id: &str) -> Result<Details, ApiError> {
        let body = self
            .call(
                &shop.access_token,
                Some(&shop.cipher),
                (Method::GET, ORDER_DETAIL_PATH),
                &[("ids", order_id)],
                None,
                "Get Order Detail",
            )
            .await?;
        let envelope: Envelope = serde_json::from_slice(&body).map_err(unreadable)?;
        envelope
            .data
            .into_iter()
            .flat_map(|d| d.orders)
            .find(|o| o.id == order_id)
            .map(ApiOrder::into_details)
            // Notifications can outrun the order API; the order shows up on a later attempt.
            .ok_or_else(|| transient("TikTok Shop API does not list the order yet".into()))
    }
}

/// The response of Get Order Detail (its `code` is checked before, for every call).
#[derive(Debug, Deserialize)]
pub(super) struct Envelope {
    #[serde(default)]
    pub(super) data: Option<OrdersData>,
}

#[derive(Debug, Deserialize)]
pub(super) struct OrdersData {
    #[serde(default)]
    pub(super) orders: Vec<ApiOrder>,
}

/// One order as Get Order Detail returns it (the fields we use).
#[derive(Debug, Deserialize)]
pub(super) struct ApiOrder {
    #[serde(deserialize_with = "text")]
    pub(super) id: String,
    #[serde(default, deserialize_with = "opt_text")]
    user_id: Option<String>,
    #[serde(default)]
    payment: Option<Payment>,
    #[serde(default)]
    line_items: Vec<ApiLine>,
}

#[derive(Debug, Deserialize)]
struct Payment {
    #[serde(default)]
    currency: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    total_amount: Option<String>,
}

/// 202309 lists one line item per unit; `quantity` is read when present (other versions).
#[derive(Debug, Deserialize)]
struct ApiLine {
    #[serde(default, deserialize_with = "opt_text")]
    seller_sku: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    sku_id: Option<String>,
    #[serde(default)]
    product_name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    sale_price: Option<String>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    quantity: Option<u32>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Text {
    Str(String),
    Int(i64),
    Uint(u64),
    Float(f64),
}

impl Text {
    fn into_string(self) -> String {
        match self {
            Text::Str(s) => s,
            Text::Int(n) => n.to_string(),
            Text::Uint(n) => n.to_string(),
            Text::Float(n) => n.to_string(),
        }
    }
}

pub(super) fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Text::deserialize(d).map(Text::into_string)
}

pub(super) fn opt_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Text>::deserialize(d)?
        .map(Text::into_string)
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty()))
}

impl ApiOrder {
    /// Buyer, total and lines (one per SKU, units summed) in our terms.
    pub(super) fn into_details(self) -> Details {
        let payment = self.payment.unwrap_or(Payment {
            currency: None,
            total_amount: None,
        });
        let currency = payment
            .currency
            .as_deref()
            .or_else(|| self.line_items.iter().find_map(|l| l.currency.as_deref()))
            .and_then(|c| Currency::parse(c).ok());
        // TikTok sends decimal strings ("1500" yen, "12.99" dollars); we store the minor
        // units every amount here uses (Stripe's), two decimals when no currency is named.
        // An amount the currency cannot express is not stored.
        let minor = |amount: &str| {
            Money::parse(amount, currency.unwrap_or(Currency::USD))
                .ok()
                .map(|m| m.minor)
        };
        let total_cents = payment.total_amount.as_deref().and_then(minor);
        let mut lines: Vec<NewLine> = Vec::new();
        for item in self.line_items {
            let units = i32::try_from(item.quantity.unwrap_or(1).max(1)).unwrap_or(i32::MAX);
            let same = |l: &&mut NewLine| {
                l.seller_sku == item.seller_sku && l.tiktok_sku_id == item.sku_id
            };
            match lines.iter_mut().find(|l| same(l)) {
                Some(line) => line.quantity = line.quantity.saturating_add(units),
                None => lines.push(NewLine {
                    unit_price_cents: item.sale_price.as_deref().and_then(minor),
                    seller_sku: item.seller_sku,
                    tiktok_sku_id: item.sku_id,
                    title: item.product_name,
                    quantity: units,
                }),
            }
        }
        Details {
            buyer: self.user_id,
            total_cents,
            currency: currency.map(|c| c.code().to_owned()),
            lines,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_become_minor_units_by_currency() {
        let total = |currency: Option<&str>, amount: &str| {
            let payment = match currency {
                Some(c) => serde_json::json!({"currency": c, "total_amount": amount}),
                None => serde_json::json!({"total_amount": amount}),
            };
            let order: ApiOrder =
                serde_json::from_value(serde_json::json!({"id": "1", "payment": payment}))
                    .expect("parses");
            let details = order.into_details();
            (details.total_cents, details.currency)
        };
        let usd = Some("usd".to_owned());
        assert_eq!(total(Some("USD"), "12.99"), (Some(1299), usd.clone()));
        assert_eq!(total(Some("USD"), "12.9"), (Some(1290), usd.clone()));
        assert_eq!(total(Some("USD"), "12"), (Some(1200), usd.clone()));
        assert_eq!(total(Some("USD"), "1.234"), (None, usd.clone()));
        assert_eq!(total(Some("USD"), "-1"), (None, usd.clone()));
        assert_eq!(total(Some("USD"), ""), (None, usd.clone()));
        assert_eq!(total(Some("USD"), "1e3"), (None, usd));
        let jpy = Some("jpy".to_owned());
        assert_eq!(total(Some("JPY"), "1500"), (Some(1500), jpy.clone()));
        assert_eq!(total(Some("JPY"), "1500.00"), (Some(1500), jpy.clone()));
        assert_eq!(total(Some("JPY"), "12.50"), (None, jpy));
        assert_eq!(
            total(Some("KWD"), "1.234"),
            (Some(1234), Some("kwd".to_owned()))
        );
        assert_eq!(total(None, "12.99"), (Some(1299), None));
        assert_eq!(total(Some("dollars"), "12.99"), (Some(1299), None));
    }

    #[test]
    fn line_items_are_grouped_by_sku_and_the_total_is_read() {
        let order: ApiOrder = serde_json::from_str(
            r#"{"id":"576653688135258178","user_id":"7021436810468230477",
                "payment":{"currency":"USD","total_amount":"59.97"},
                "line_items":[
                  {"id":"1","sku_id":"111","seller_sku":"MUG-1","product_name":"Mug","sale_price":"19.99","currency":"USD"},
                  {"id":"2","sku_id":"111","seller_sku":"MUG-1","product_name":"Mug","sale_price":"19.99","currency":"USD"},
                  {"id":"3","sku_id":"222","seller_sku":"","product_name":"Cap","sale_price":"20","quantity":1}
                ]}"#,
        )
        .expect("parses");
        let details = order.into_details();
        assert_eq!(details.buyer.as_deref(), Some("7021436810468230477"));
        assert_eq!(details.total_cents, Some(5997));
        assert_eq!(details.currency.as_deref(), Some("usd"));
        assert_eq!(
            details.lines,
            vec![
                NewLine {
                    seller_sku: Some("MUG-1".into()),
                    tiktok_sku_id: Some("111".into()),
                    title: Some("Mug".into()),
                    quantity: 2,
                    unit_price_cents: Some(1999),
                },
                NewLine {
                    seller_sku: None,
                    tiktok_sku_id: Some("222".into()),
                    title: Some("Cap".into()),
                    quantity: 1,
                    unit_price_cents: Some(2000),
                },
            ]
        );
    }

    #[test]
    fn an_order_without_payment_or_lines_has_no_total_and_no_lines() {
        let order: ApiOrder = serde_json::from_str(r#"{"id":1}"#).expect("parses");
        assert_eq!(order.id, "1");
        assert_eq!(order.into_details(), Details::default());
    }
}
