//! [`read`]: one buy message → one [`Reading`].

use std::collections::BTreeSet;

use super::item::{self, Item, Target, Via};
use super::lexicon::LETTER_SIZES;
use super::normalize::{Token, fold, tokens};
use super::quantity::read_numbers;
use super::variant::{self, Choice};
use super::{CatalogItem, ClaimRules, LiveContext, MAX_SCAN_CHARS, Reading};

/// What `text` asks for: which variant of which item, and how many units.
///
/// The item is a lineup claim code, a SKU or product code, a title, a lineup item's own
/// word, else the pinned item; the quantity is 1 unless stated, capped at
/// `rules.max_quantity`; an item with several variants is narrowed to one by the option
/// values named, else it [`Reading::NeedsVariant`]. See the [module docs](super).
///
/// Only the first [`MAX_SCAN_CHARS`] characters of `text` are read, so the work is bounded
/// whatever its length (and linear in the catalog's size). Never panics.
pub fn read(
    text: &str,
    catalog: &[CatalogItem],
    live: &LiveContext,
    rules: &ClaimRules,
) -> Reading {
    let head: String = text.chars().take(MAX_SCAN_CHARS).collect();
    let folded = fold(&head);
    let toks = split_glued_codes(tokens(&folded), live);
    let (target, via, spans) = match item::find(&folded, &toks, catalog, live) {
        Item::Found { target, via, spans } => (target, via, spans),
        Item::UnknownCode | Item::Nothing => return Reading::Unmatched,
    };
    if live.lineup_only && via != Via::Code && !in_lineup(&target, catalog, live) {
        return Reading::Unmatched;
    }
    let code = match &target {
        Target::Sku(i) => &catalog[*i].product_code,
        Target::Family(code) => code,
    };
    let family: Vec<&CatalogItem> = catalog.iter().filter(|c| &c.product_code == code).collect();

    // Tokens that named the item, and numbers of its own title (`Air Max 90`), are no
    // quantity or size.
    let title_numbers: BTreeSet<String> = family
        .iter()
        .flat_map(|c| tokens(&fold(&c.title)))
        .filter(Token::is_number)
        .map(|t| t.text)
        .collect();
    let used: Vec<bool> = toks
        .iter()
        .map(|t| {
            spans.iter().any(|&(s, e)| t.start < e && t.end > s)
                || (t.is_number() && title_numbers.contains(&t.text))
        })
        .collect();
    let numbers = read_numbers(
        &folded,
        &toks,
        &used,
        &variant::numeric_sizes(&family),
        rules.max_quantity,
    );
    let quantity = numbers
        .quantity
        .unwrap_or(1)
        .clamp(1, rules.max_quantity.max(1));
    let claim = |item: &CatalogItem| Reading::Claim {
        product_id: item.product_id,
        sku: item.sku.clone(),
        quantity,
    };
    match target {
        Target::Sku(i) => claim(&catalog[i]),
        Target::Family(code) => match variant::choose(&family, &toks, &used, &numbers) {
            Choice::One(item) => claim(item),
            Choice::Open => Reading::NeedsVariant {
                product_code: code,
                options: variant::options_of(&family),
                quantity,
            },
        },
    }
}

/// With `lineup_only`: the target is a lineup item (its SKU, its product code, or, for a
/// product, one of its variants' SKUs is in the lineup).
fn in_lineup(target: &Target, catalog: &[CatalogItem], live: &LiveContext) -> bool {
    let listed: BTreeSet<String> = live.lineup.iter().map(|(_, code)| fold(code)).collect();
    match target {
        Target::Sku(i) => {
            listed.contains(&fold(&catalog[*i].sku))
                || listed.contains(&fold(&catalog[*i].product_code))
        }
        Target::Family(code) => {
            listed.contains(&fold(code))
                || catalog
                    .iter()
                    .any(|c| &c.product_code == code && listed.contains(&fold(&c.sku)))
        }
    }
}

/// `a1m`, `a1x2`: a claim code glued to a size or a quantity becomes two tokens.
fn split_glued_codes(toks: Vec<Token>, live: &LiveContext) -> Vec<Token> {
    let codes: Vec<String> = live.lineup.iter().map(|(code, _)| fold(code)).collect();
    let mut out = Vec::with_capacity(toks.len());
    for t in toks {
        let split = codes.iter().find_map(|code| {
            let rest = t.text.strip_prefix(code.as_str())?;
            let glued = LETTER_SIZES.iter().any(|(p, _)| *p == rest)
                || rest
                    .strip_prefix('x')
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            glued.then_some(code.len())
        });
        match split {
            Some(at) => {
                let (head, tail) = t.text.split_at(at);
                out.push(Token {
                    text: head.to_owned(),
                    bare: head.to_owned(),
                    end: t.start + at,
                    after: tail.chars().next(),
                    ..t.clone()
                });
                out.push(Token {
                    text: tail.to_owned(),
                    bare: tail.to_owned(),
                    start: t.start + at,
                    before: head.chars().next_back(),
                    ..t
                });
            }
            None => out.push(t),
        }
    }
    out
}

#[cfg(test)]
mod tests;
