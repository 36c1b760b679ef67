//! How a live sale's claims are read and allocated (docs/contract.md §9).

use std::time::Duration;

use super::ConfigError;
use super::reader::Reader;

/// The claim settings, part of [`super::Settings`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClaimSettings {
    /// `MAX_CLAIM_QUANTITY`, default 5: larger asks are capped to it.
    pub max_quantity: u32,
    /// `CLAIM_ORDER_WINDOW_MS`, default 300 (0 turns the wait off): how long after a
    /// message's own time its claim waits for earlier messages still on their way.
    pub order_window: Duration,
    /// `WAITLIST_MAX` per variant, default 50 (0 turns waitlists off: `sold_out`).
    pub waitlist_max: u32,
    /// `WAITLIST_TTL_SECS`, default 86400: when a waitlist entry lapses.
    pub waitlist_ttl: Duration,
    /// `BUYER_MAX_OPEN_HOLDS`, default 10: unpaid holds one buyer may have at once.
    pub buyer_max_open_holds: u32,
    /// `LIVE_LINEUP_ONLY`, default false: comment claims only for lineup items.
    pub lineup_only: bool,
}

impl ClaimSettings {
    pub(super) fn read<F: Fn(&str) -> Option<String>>(
        r: &Reader<F>,
    ) -> Result<ClaimSettings, ConfigError> {
        Ok(ClaimSettings {
            max_quantity: r.number("MAX_CLAIM_QUANTITY", 5, 1..=20)?,
            order_window: Duration::from_millis(r.number(
                "CLAIM_ORDER_WINDOW_MS",
                300,
                0..=10_000,
            )?),
            waitlist_max: r.number("WAITLIST_MAX", 50, 0..=10_000)?,
            waitlist_ttl: Duration::from_secs(r.number(
                "WAITLIST_TTL_SECS",
                86_400,
                60..=30 * 86_400,
            )?),
            buyer_max_open_holds: r.number("BUYER_MAX_OPEN_HOLDS", 10, 1..=1_000)?,
            lineup_only: r.flag("LIVE_LINEUP_ONLY")?,
        })
    }
}
