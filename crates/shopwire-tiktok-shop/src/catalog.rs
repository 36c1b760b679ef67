//! Search Products (202309): a shop's live products with their SKUs, a page at a time —
//! what `shopwire-admin tiktok-shop import-products` reads to create our catalog from the
//! seller's. Only `ACTIVATE` products are asked for: Update Inventory (inventory out) takes
//! only live SKUs, so a draft or deleted product imported and linked could never be pushed.

use reqwest::Method;
use serde::Deserialize;

use crate::access::{ShopError, TiktokShop};
use crate::api::{ApiError, ShopCall, TiktokShopApi, unreadable};
use crate::order::{opt_text, text};

/// Search Products, version 202309 (`POST`, JSON body).
pub const SEARCH_PRODUCTS_PATH: &str = "/product/202309/products/search";
/// The largest page TikTok serves.
pub const PAGE_SIZE: u32 = 100;
/// The product status searched for: live on TikTok Shop.
pub const LIVE_STATUS: &str = "ACTIVATE";

/// A product as Search Products lists it (the fields the import keeps).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CatalogProduct {
    /// TikTok's product id.
    #[serde(deserialize_with = "text")]
    pub id: String,
    /// What buyers see.
    #[serde(default)]
    pub title: String,
    /// Its status, e.g. `ACTIVATE`.
    #[serde(default)]
    pub status: String,
    /// Its SKUs (one unless it has variants).
    #[serde(default)]
    pub skus: Vec<CatalogSku>,
}

/// One SKU of a product.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CatalogSku {
    /// TikTok's SKU id.
    #[serde(deserialize_with = "text")]
    pub id: String,
    /// The seller's own SKU code, trimmed; `None` when the seller gave none.
    #[serde(default, deserialize_with = "opt_text")]
    pub seller_sku: Option<String>,
    /// Its price, when TikTok gave one.
    #[serde(default)]
    pub price: Option<SkuPrice>,
    /// Its stock, per warehouse.
    #[serde(default)]
    pub inventory: Vec<WarehouseStock>,
    /// What sets it apart from its siblings, e.g. `Size` = `M`.
    #[serde(default)]
    pub sales_attributes: Vec<SalesAttribute>,
}

impl CatalogSku {
    /// Its units over all warehouses (negative counts, which TikTok never sends, as 0).
    pub fn quantity(&self) -> i64 {
        (self.inventory.iter()).fold(0i64, |sum, w| sum.saturating_add(w.quantity.max(0)))
    }
}

/// A price as TikTok writes it: a decimal string and a currency code, kept as text so no
/// floating point ever touches it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SkuPrice {
    /// ISO 4217 code, e.g. `USD`.
    #[serde(default)]
    pub currency: String,
    /// The price before tax, e.g. `19.99`.
    #[serde(rename = "tax_exclusive_price", default, deserialize_with = "opt_text")]
    pub amount: Option<String>,
}

/// One warehouse's stock of a SKU.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WarehouseStock {
    /// Units.
    #[serde(default)]
    pub quantity: i64,
    /// The warehouse.
    #[serde(default, deserialize_with = "opt_text")]
    pub warehouse_id: Option<String>,
}

/// One sales attribute of a SKU.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SalesAttribute {
    /// The attribute, e.g. `Size`.
    #[serde(default)]
    pub name: String,
    /// This SKU's value of it, e.g. `M`.
    #[serde(default)]
    pub value_name: String,
}

/// One page of results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductPage {
    /// The products on it.
    pub products: Vec<CatalogProduct>,
    /// The next page's token; `None` on the last page.
    pub next: Option<String>,
    /// How many products match in all.
    pub total_count: u64,
}

impl TiktokShopApi {
    /// One page of `shop`'s live products, from `page_token` (`None` for the first).
    pub async fn search_products(
        &self,
        shop: &ShopCall,
        page_token: Option<&str>,
    ) -> Result<ProductPage, ApiError> {
        let body = serde_json::to_vec(&serde_json::json!({ "status": LIVE_STATUS }))
            .map_err(|e| ApiError::Permanent(format!("Search Products body: {e}")))?;
        let size = PAGE_SIZE.to_string();
        let mut params = vec![("page_size", size.as_str())];
        if let Some(token) = page_token {
            params.push(("page_token", token));
        }
        let answer = self
            .call(
                &shop.access_token,
                Some(&shop.cipher),
                (Method::POST, SEARCH_PRODUCTS_PATH),
                &params,
                Some(body),
                "Search Products",
            )
            .await?;
        let envelope: Envelope = serde_json::from_slice(&answer).map_err(unreadable)?;
        let data = envelope.data.unwrap_or_default();
        Ok(ProductPage {
            products: data.products,
            next: data.next_page_token.filter(|t| !t.is_empty()),
            total_count: data.total_count,
        })
    }
}

impl TiktokShop {
    /// One page of Search Products with `shop_id`'s token and cipher.
    pub async fn search_products(
        &self,
        shop_id: &str,
        page_token: Option<&str>,
    ) -> Result<ProductPage, ShopError> {
        self.for_shop(Some(shop_id), |call| async move {
            self.api().search_products(&call, page_token).await
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
    products: Vec<CatalogProduct>,
    #[serde(default)]
    next_page_token: Option<String>,
    #[serde(default)]
    total_count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_reads_ids_as_text_prices_as_decimal_strings_and_sums_warehouses() {
        let answer = br#"{"code":0,"message":"Success","data":{"products":[{"id":7001,
            "title":"Denim Jacket","status":"ACTIVATE","skus":[{"id":"s1","seller_sku":" DNM-M ",
            "price":{"currency":"USD","tax_exclusive_price":"19.99"},
            "inventory":[{"quantity":3,"warehouse_id":"w1"},{"quantity":2,"warehouse_id":"w2"}],
            "sales_attributes":[{"name":"Size","value_name":"M"}]},{"id":"s2","seller_sku":""}]}],
            "next_page_token":"","total_count":1}}"#;
        let envelope: Envelope = serde_json::from_slice(answer).expect("readable");
        let data = envelope.data.expect("data");
        let product = &data.products[0];
        assert_eq!((product.id.as_str(), data.total_count), ("7001", 1));
        let (first, second) = (&product.skus[0], &product.skus[1]);
        assert_eq!(first.seller_sku.as_deref(), Some("DNM-M"));
        let price = first.price.as_ref().expect("a price");
        assert_eq!(
            (price.currency.as_str(), price.amount.as_deref()),
            ("USD", Some("19.99"))
        );
        assert_eq!(first.quantity(), 5);
        assert_eq!(first.sales_attributes[0].value_name, "M");
        assert_eq!((second.seller_sku.as_deref(), second.quantity()), (None, 0));
        assert_eq!(data.next_page_token.as_deref(), Some(""));
    }
}
