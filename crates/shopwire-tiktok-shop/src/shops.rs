//! Get Authorized Shops (202309): the shops a seller's grant covers, each with the
//! `shop_cipher` every call for it must carry.

use reqwest::Method;
use secrecy::SecretString;
use serde::Deserialize;
use shopwire_core::db::tiktok_shops::NewShop;

use crate::api::{ApiError, TiktokShopApi, unreadable};
use crate::order::text;

/// Get Authorized Shops, version 202309.
pub const AUTHORIZED_SHOPS_PATH: &str = "/authorization/202309/shops";

impl TiktokShopApi {
    /// The shops `access_token`'s grant covers.
    pub async fn authorized_shops(
        &self,
        access_token: &SecretString,
    ) -> Result<Vec<NewShop>, ApiError> {
        let body = self
            .call(
                access_token,
                None,
                (Method::GET, AUTHORIZED_SHOPS_PATH),
                &[],
                None,
                "Get Authorized Shops",
            )
            .await?;
        let envelope: Envelope = serde_json::from_slice(&body).map_err(unreadable)?;
        Ok(envelope
            .data
            .map(|d| d.shops)
            .unwrap_or_default()
            .into_iter()
            .map(|s| NewShop {
                shop_id: s.id,
                cipher: s.cipher,
                name: s.name,
                region: s.region,
                code: s.code,
            })
            .collect())
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    data: Option<ShopsData>,
}

#[derive(Deserialize)]
struct ShopsData {
    #[serde(default)]
    shops: Vec<ApiShop>,
}

#[derive(Deserialize)]
struct ApiShop {
    #[serde(deserialize_with = "text")]
    id: String,
    cipher: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    code: String,
}
