//! TikTok Shop in the worker: its webhook bodies and order statuses, read here; its Open API
//! (signed calls, connected shops and their tokens, orders and returns) from
//! `shopwire-tiktok-shop`, re-exported so the worker's users see one module.

pub mod notification;
pub mod status;

pub use shopwire_tiktok_shop::{
    ACCESS_TOKEN_HEADER, AUTHORIZED_SHOPS_PATH, ApiError, ORDER_DETAIL_PATH, ReturnDetail,
    SEARCH_RETURNS_PATH, ShopError, TiktokShop, auth, returns, sign,
};

use std::time::Duration;

use crate::jobs::JobError;

/// A token TikTok refused even after a refresh is retried after this: the periodic refresh
/// or an operator reconnecting the shop may fix it, so the notification is not dead-lettered
/// at once.
const CREDENTIALS_RETRY: Duration = Duration::from_secs(60);

impl From<ApiError> for JobError {
    fn from(e: ApiError) -> Self {
        let error = match &e {
            ApiError::Transient {
                message,
                retry_after,
            } => JobError::transient_after(message.clone(), *retry_after),
            ApiError::Credentials(message) => {
                JobError::transient_after(message.clone(), Some(CREDENTIALS_RETRY))
            }
            ApiError::Permanent(message) => JobError::permanent(message.clone()),
        };
        error.caused_by(e)
    }
}

impl From<ShopError> for JobError {
    fn from(e: ShopError) -> Self {
        match e {
            ShopError::Api(e) => e.into(),
            ShopError::Database(e) => e.into(),
            // An operator connects the shop, then replays the dead letter.
            ShopError::NotConnected(_) | ShopError::Disconnected(_) => {
                JobError::permanent(e.to_string())
            }
        }
    }
}
