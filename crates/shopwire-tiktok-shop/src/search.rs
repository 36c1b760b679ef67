//! Search Orders (202309): a shop's orders updated in a window, a page at a time — what
//! reconciliation reads to find orders no webhook brought.

use reqwest::Method;
use serde::Deserialize;

use crate::access::{ShopError, TiktokShop};
use crate::api::{ApiError, ShopCall, TiktokShopApi, unreadable};
use crate::order::text;

/// Search Orders, version 202309 (`POST`, JSON body).
pub const SEARCH_ORDERS_PATH: &str = "/order/202309/orders/search";
/// The largest page TikTok serves.
pub const PAGE_SIZE: u32 = 100;

/// An order as Search Orders lists it (the fields reconciliation compares).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FoundOrder {
    /// TikTok's order id.
    #[serde(deserialize_with = "text")]
    pub id: String,
    /// Its status name, as the order API spells it.
    #[serde(default)]
    pub status: String,
    /// When it last changed (unix seconds).
    #[serde(default)]
    pub update_time: i64,
}

/// One page of results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// The orders on it.
    pub orders: Vec<FoundOrder>,
    /// The next page's token; `None` on the last page.
    pub next: Option<String>,
}

impl TiktokShopApi {
    /// One page of `shop`'s orders updated in `[from, until)` (unix seconds).
    pub async fn search_orders(
        &self,
        shop: &ShopCall,
        (from, until): (i64, i64),
        page_token: Option<&str>,
    ) -> Result<Page, ApiError> {
        let body = serde_json::to_vec(&serde_json::json!({
            "update_time_ge": from,
            "update_time_lt": until,
        }))
        .map_err(|e| ApiError::Permanent(format!("Search Orders body: {e}")))?;
        let size = PAGE_SIZE.to_string();
        let mut params = vec![("page_size", size.as_str())];
        if let Some(token) = page_token {
            params.push(("page_token", token));
        }
        let answer = self
            .call(
                &shop.access_token,
                Some(&shop.cipher),
                (Method::POST, SEARCH_ORDERS_PATH),
                &params,
                Some(body),
                "Search Orders",
            )
            .await?;
        let envelope: Envelope = serde_json::from_slice(&answer).map_err(unreadable)?;
        let data = envelope.data.unwrap_or_default();
        Ok(Page {
            orders: data.orders,
            next: data.next_page_token.filter(|t| !t.is_empty()),
        })
    }
}

impl TiktokShop {
    /// One page of Search Orders with `shop_id`'s token and cipher.
    pub async fn search_orders(
        &self,
        shop_id: &str,
        window: (i64, i64),
        page_token: Option<&str>,
    ) -> Result<Page, ShopError> {
        self.for_shop(Some(shop_id), |call| async move {
            self.api().search_orders(&call, window, page_token).await
        })
        .await
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    data: Option<Data>,
}

#[derive(Default, Deserialize)]
struct Data {
    #[serde(default)]
    orders: Vec<FoundOrder>,
    #[serde(default)]
    next_page_token: Option<String>,
}
