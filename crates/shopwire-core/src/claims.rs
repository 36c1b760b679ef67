//! Reading a claim: which variant and how many units one buy message asks for, against a
//! catalog snapshot and what the streamer's live shows (docs/contract.md §9).
//!
//! [`read`] is pure and deterministic: no I/O, no clock, no randomness, so the worker, the
//! admin CLI (`claims parse`) and the tests all get the same [`Reading`] for the same input.
//! The allocator decides what happens to a reading (reserved, waitlisted, sold out …); the
//! reader only says what the buyer asked for.
//!
//! How a message is read, in order:
//!
//! 1. **Item**: a lineup claim code (`A1`, `a1`, `#A1`); else a SKU or product code named as a
//!    whole code (`JKT-1` is not named by `JKT-10`); else a title whose significant words the
//!    text shares at least [`item::MIN_TITLE_SHARE`]; else a lineup item named by a title word
//!    (or its EN/ES garment synonym) that no other lineup item has; else the pinned item. A
//!    code shaped like the lineup's (`A7`) or like the catalog's SKUs (`CAP-2`) that names
//!    nothing is [`Reading::Unmatched`], never the pinned item.
//! 2. **Quantity**: digits, `x2`, `2x`, `2 pcs`, number words in EN and ES,
//!    `a pair`/`un par`/`couple`; 1–20 understood, more than `max_quantity` capped to it.
//! 3. **Variant**: option values named in the text, folded for case and
//!    accents, with EN/ES size and colour synonyms.
//!
//! Only the first [`MAX_SCAN_CHARS`] characters of a message are read, so a reading costs at
//! most a fixed amount of work whatever the message's length.

pub mod item;
mod lexicon;
mod normalize;
mod quantity;
mod read;
mod variant;

use std::collections::BTreeMap;

pub use read::read;

/// Only this many characters of a message are read (a buy is said in the first line; the
/// cap bounds the work on a hostile 1 MB comment).
pub const MAX_SCAN_CHARS: usize = 500;

/// One sellable variant (a SKU), as the reader sees the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogItem {
    /// The variant's product row.
    pub product_id: i64,
    /// Its SKU.
    pub sku: String,
    /// The product code its variants share; equal to `sku` for a product without variants.
    pub product_code: String,
    /// Its title.
    pub title: String,
    /// Its option values, e.g. `{"size": "M", "color": "blue"}`; empty without variants.
    pub options: BTreeMap<String, String>,
}

/// What the streamer's live knows: lineup codes and the pinned item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveContext {
    /// Claim codes (`"A1"`) and the SKU or product code each points at.
    pub lineup: Vec<(String, String)>,
    /// The SKU or product code on screen.
    pub pinned: Option<String>,
    /// `LIVE_LINEUP_ONLY`: only lineup codes and items may be claimed (the pinned item still
    /// counts when it is in the lineup).
    pub lineup_only: bool,
}

/// Limits on what a claim may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimRules {
    /// `MAX_CLAIM_QUANTITY`: larger asks are capped to this.
    pub max_quantity: u32,
}

impl ClaimRules {
    /// `MAX_CLAIM_QUANTITY`'s default.
    pub const DEFAULT_MAX_QUANTITY: u32 = 5;
}

impl Default for ClaimRules {
    fn default() -> Self {
        Self {
            max_quantity: Self::DEFAULT_MAX_QUANTITY,
        }
    }
}

/// What one buy message asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// One variant, `quantity` units (1 unless stated; capped).
    Claim {
        /// The variant's product row.
        product_id: i64,
        /// The variant's SKU.
        sku: String,
        /// Units asked for, 1..=`max_quantity`.
        quantity: u32,
    },
    /// The item has several variants and the text names none that exists (or names a value
    /// it lacks, or several).
    NeedsVariant {
        /// The item's product code.
        product_code: String,
        /// Each option's values over all the item's variants, in size order for sizes
        /// (`XS S M L XL …`, numbers ascending) and alphabetically otherwise.
        options: BTreeMap<String, Vec<String>>,
        /// Units asked for, 1..=`max_quantity`.
        quantity: u32,
    },
    /// No item: nothing named, nothing pinned (or not in the lineup with `lineup_only`).
    Unmatched,
}

impl Reading {
    /// The units asked for; `None` when unmatched.
    pub fn quantity(&self) -> Option<u32> {
        match self {
            Reading::Claim { quantity, .. } | Reading::NeedsVariant { quantity, .. } => {
                Some(*quantity)
            }
            Reading::Unmatched => None,
        }
    }

    /// `claim`, `needs_variant` or `unmatched`.
    pub fn outcome(&self) -> &'static str {
        match self {
            Reading::Claim { .. } => "claim",
            Reading::NeedsVariant { .. } => "needs_variant",
            Reading::Unmatched => "unmatched",
        }
    }
}
