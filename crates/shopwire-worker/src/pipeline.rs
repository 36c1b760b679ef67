//! The commerce pipeline, one stage per file: buyer messages become claims, Stripe events
//! move orders through payment, TikTok Shop notifications sync TikTok's orders.

pub mod buyer_message;
pub mod checkout;
pub mod stripe_event;
pub mod tiktok_shop_order;
