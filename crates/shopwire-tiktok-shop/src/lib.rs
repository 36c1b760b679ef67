//! TikTok Shop's Open API as Shopwire uses it (SPEC §12, `docs/tiktok-shop.md`,
//! `docs/protocols.md` §3): signed calls ([`api`], [`sign`]), connecting a seller and
//! refreshing their tokens ([`auth`], [`shops`], [`access`]), and reading orders and returns
//! ([`order`], [`returns`]). The worker calls it for notifications and the periodic token
//! refresh; `shopwire-admin tiktok-shop` for connecting.

pub mod access;
pub mod api;
pub mod auth;
pub mod budget;
pub mod catalog;
pub mod inventory;
pub mod order;
pub mod returns;
pub mod search;
pub mod shops;
pub mod sign;

pub use access::{Connection, Refreshed, ShopError, TiktokShop};
pub use api::{ACCESS_TOKEN_HEADER, ApiError, ShopCall, TiktokShopApi};
pub use catalog::SEARCH_PRODUCTS_PATH;
pub use order::ORDER_DETAIL_PATH;
pub use returns::{ReturnDetail, SEARCH_RETURNS_PATH};
pub use search::SEARCH_ORDERS_PATH;
pub use shops::AUTHORIZED_SHOPS_PATH;
