//! Update Inventory (202309): tell TikTok Shop how many of one SKU it may sell. The SKU must
//! be live on TikTok Shop; its default warehouse is updated (no `warehouse_id`). TikTok takes
//! quantities from 0 to 99,999.

use reqwest::Method;
use serde::Deserialize;

use crate::access::{ShopError, TiktokShop};
use crate::api::{ApiError, ShopCall, TiktokShopApi, unreadable};

/// The largest quantity Update Inventory accepts.
pub const MAX_QUANTITY: i32 = 99_999;

/// The Update Inventory path for `product_id`.
pub fn update_inventory_path(product_id: &str) -> String {
    format!("/product/202309/products/{product_id}/inventory/update")
}

impl TiktokShopApi {
    /// Set `sku_id` of `product_id` to `quantity` units (clamped to 0..=[`MAX_QUANTITY`]).
    pub async fn update_inventory(
        &self,
        shop: &ShopCall,
        product_id: &str,
        sku_id: &str,
        quantity: i32,
    ) -> Result<(), ApiError> {
        let body = serde_json::to_vec(&serde_json::json!({
            "skus": [{"id": sku_id, "inventory": [{"quantity": quantity.clamp(0, MAX_QUANTITY)}]}]
        }))
        .map_err(|e| ApiError::Permanent(format!("Update Inventory body: {e}")))?;
        let path = update_inventory_path(product_id);
        let answer = self
            .call(
                &shop.access_token,
                Some(&shop.cipher),
                (Method::POST, &path),
                &[],
                Some(body),
                "Update Inventory",
            )
            .await?;
        let envelope: Envelope = serde_json::from_slice(&answer).map_err(unreadable)?;
        // A 200 can still list per-SKU failures (a SKU not live, a bad warehouse).
        match envelope.data.and_then(|d| d.errors.into_iter().next()) {
            Some(error) => Err(ApiError::Permanent(format!(
                "TikTok Shop refused Update Inventory for SKU {sku_id}: code {} ({})",
                error.code, error.message
            ))),
            None => Ok(()),
        }
    }
}

impl TiktokShop {
    /// Update Inventory with `shop_id`'s token and cipher.
    pub async fn update_inventory(
        &self,
        shop_id: &str,
        product_id: &str,
        sku_id: &str,
        quantity: i32,
    ) -> Result<(), ShopError> {
        self.for_shop(Some(shop_id), |call| async move {
            self.api()
                .update_inventory(&call, product_id, sku_id, quantity)
                .await
        })
        .await
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    errors: Vec<SkuError>,
}

#[derive(Deserialize)]
struct SkuError {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
}
