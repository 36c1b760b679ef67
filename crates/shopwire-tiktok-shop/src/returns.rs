//! Search Returns (202309): what a return sent back. The return webhook (topic 12) names the
//! return but not its lines; the API lists them, one return line item per unit.

use reqwest::Method;
use serde::Deserialize;
use shopwire_core::db::tiktok_orders::ReturnedLine;

use crate::api::{ApiError, ShopCall, TiktokShopApi, transient, unreadable};
use crate::order::{opt_text, text};

/// Search Returns, version 202309 (`POST`, JSON body).
pub const SEARCH_RETURNS_PATH: &str = "/return_refund/202309/returns/search";

impl TiktokShopApi {
    /// Search Returns for one return of `shop`: its type and the units it sent back.
    pub async fn return_detail(
        &self,
        shop: &ShopCall,
        return_id: &str,
    ) -> Result<ReturnDetail, ApiError> {
        let request = serde_json::to_vec(&serde_json::json!({ "return_ids": [return_id] }))
            .map_err(|e| ApiError::Permanent(format!("Search Returns body: {e}")))?;
        let body = self
            .call(
                &shop.access_token,
                Some(&shop.cipher),
                (Method::POST, SEARCH_RETURNS_PATH),
                &[],
                Some(request),
                "Search Returns",
            )
            .await?;
        let envelope: Envelope = serde_json::from_slice(&body).map_err(unreadable)?;
        envelope
            .data
            .into_iter()
            .flat_map(|d| d.return_orders)
            .find(|r| r.return_id == return_id)
            .map(ApiReturn::into_detail)
            .ok_or_else(|| transient("TikTok Shop API does not list the return yet".into()))
    }
}

/// The response of Search Returns.
#[derive(Debug, Deserialize)]
pub(super) struct Envelope {
    #[serde(default)]
    pub(super) data: Option<ReturnsData>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ReturnsData {
    #[serde(default)]
    pub(super) return_orders: Vec<ApiReturn>,
}

/// One return as Search Returns lists it (the fields we use).
#[derive(Debug, Deserialize)]
pub(super) struct ApiReturn {
    #[serde(deserialize_with = "text")]
    pub(super) return_id: String,
    #[serde(default, deserialize_with = "opt_text")]
    return_type: Option<String>,
    #[serde(default)]
    can_buyer_keep_item: Option<bool>,
    #[serde(default)]
    return_line_items: Vec<ApiReturnLine>,
}

#[derive(Debug, Deserialize)]
struct ApiReturnLine {
    #[serde(default, deserialize_with = "opt_text")]
    seller_sku: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    sku_id: Option<String>,
    /// Not in 202309 (one line item per unit); read when present.
    #[serde(default)]
    quantity: Option<u32>,
}

/// What a refunded return means for our stock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnDetail {
    /// `REFUND`, `RETURN_AND_REFUND` or `REPLACEMENT`, as TikTok lists it.
    pub return_type: Option<String>,
    /// Units that came back, by SKU: none for a refund-only return or when the buyer keeps
    /// the items.
    pub lines: Vec<ReturnedLine>,
}

impl ApiReturn {
    pub(super) fn into_detail(self) -> ReturnDetail {
        let return_type = self.return_type.map(|t| t.to_ascii_uppercase());
        let nothing_back =
            return_type.as_deref() == Some("REFUND") || self.can_buyer_keep_item == Some(true);
        let mut lines: Vec<ReturnedLine> = Vec::new();
        if !nothing_back {
            for item in self.return_line_items {
                let units = i32::try_from(item.quantity.unwrap_or(1).max(1)).unwrap_or(i32::MAX);
                let same = |l: &&mut ReturnedLine| {
                    l.seller_sku == item.seller_sku && l.tiktok_sku_id == item.sku_id
                };
                match lines.iter_mut().find(|l| same(l)) {
                    Some(line) => line.quantity = line.quantity.saturating_add(units),
                    None => lines.push(ReturnedLine {
                        seller_sku: item.seller_sku,
                        tiktok_sku_id: item.sku_id,
                        quantity: units,
                    }),
                }
            }
        }
        ReturnDetail { return_type, lines }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(json: &str) -> ReturnDetail {
        serde_json::from_str::<ApiReturn>(json)
            .expect("parses")
            .into_detail()
    }

    #[test]
    fn returned_line_items_are_grouped_by_sku() {
        let got = detail(
            r#"{"return_id":"4035389028390551230","return_type":"RETURN_AND_REFUND","can_buyer_keep_item":false,
                "return_line_items":[
                  {"return_line_item_id":"1","order_line_item_id":"01","sku_id":"170","seller_sku":"MUG-1"},
                  {"return_line_item_id":"2","order_line_item_id":"02","sku_id":"170","seller_sku":"MUG-1"},
                  {"return_line_item_id":"3","order_line_item_id":"11","sku_id":171,"seller_sku":""}
                ]}"#,
        );
        assert_eq!(got.return_type.as_deref(), Some("RETURN_AND_REFUND"));
        assert_eq!(
            got.lines,
            [
                ReturnedLine {
                    seller_sku: Some("MUG-1".into()),
                    tiktok_sku_id: Some("170".into()),
                    quantity: 2,
                },
                ReturnedLine {
                    seller_sku: None,
                    tiktok_sku_id: Some("171".into()),
                    quantity: 1,
                },
            ]
        );
    }

    #[test]
    fn a_refund_only_return_or_a_kept_item_sends_nothing_back() {
        let line = r#"[{"sku_id":"170","seller_sku":"MUG-1"}]"#;
        for head in [
            r#""return_type":"REFUND""#,
            r#""return_type":"REPLACEMENT","can_buyer_keep_item":true"#,
        ] {
            let got = detail(&format!(
                r#"{{"return_id":"r",{head},"return_line_items":{line}}}"#
            ));
            assert_eq!(got.lines, [], "{head}");
        }
        let replaced = detail(&format!(
            r#"{{"return_id":"r","return_type":"REPLACEMENT","return_line_items":{line}}}"#
        ));
        assert_eq!(
            replaced.lines.len(),
            1,
            "a replacement sent back comes back"
        );
    }
}
