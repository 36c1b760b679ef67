//! The commerce pipeline, one stage per file: buyer messages become orders, Stripe events
//! move orders through payment, TikTok Shop notifications sync TikTok's orders.

pub mod buyer_message;
pub mod checkout;
pub mod product_match;
pub mod stripe_event;
pub mod tiktok_shop_order;
