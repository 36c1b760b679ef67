//! Codes in the text: SKUs and product codes named as whole codes, a product code that
//! starts an unknown variant SKU, and code-shaped words that name nothing.

use std::collections::BTreeSet;

use super::super::CatalogItem;
use super::super::normalize::{Token, fold};

/// The catalog entry whose `code` appears first in the text, with its span. Codes under 4
/// characters must be a whole word of their own.
pub(super) fn first_code(
    folded: &str,
    toks: &[Token],
    catalog: &[CatalogItem],
    code: impl Fn(&CatalogItem) -> &String,
) -> Option<(usize, (usize, usize))> {
    let mut best: Option<(usize, (usize, usize))> = None;
    for (index, item) in catalog.iter().enumerate() {
        let c = fold(code(item));
        if c.is_empty() {
            continue;
        }
        let at = if c.chars().count() >= 4 {
            find_code(folded, &c)
        } else {
            toks.iter()
                .find(|t| !t.joined && t.text == c)
                .map(|t| t.start)
        };
        if let Some(at) = at
            && best.is_none_or(|(_, (b, _))| at < b)
        {
            best = Some((index, (at, at + c.len())));
        }
    }
    best
}

fn part_of_code(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '/' | '.')
}

pub(super) fn find_code(text: &str, code: &str) -> Option<usize> {
    if code.is_empty() {
        return None;
    }
    text.match_indices(code).map(|(at, _)| at).find(|&at| {
        let before = text[..at].chars().next_back();
        let after = text[at + code.len()..].chars().next();
        // A trailing '.' ends a sentence ("I want JKT-1."), not the code.
        let ends_code = |c: char| part_of_code(c) && c != '.';
        !before.is_some_and(part_of_code) && !after.is_some_and(ends_code)
    })
}

/// A product code (of a product with variants) followed by `-`/`_` and more of a code:
/// an unknown variant SKU of that product.
pub(super) fn product_code_prefix(
    folded: &str,
    catalog: &[CatalogItem],
) -> Option<(usize, (usize, usize))> {
    let mut best: Option<(usize, (usize, usize))> = None;
    for (index, item) in catalog.iter().enumerate() {
        if item.product_code == item.sku {
            continue;
        }
        let code = fold(&item.product_code);
        let hit = folded
            .match_indices(code.as_str())
            .map(|(at, _)| at)
            .find(|&at| {
                let before = folded[..at].chars().next_back();
                let mut after = folded[at + code.len()..].chars();
                !before.is_some_and(part_of_code)
                    && matches!(after.next(), Some('-' | '_'))
                    && after.next().is_some_and(char::is_alphanumeric)
            });
        if let Some(at) = hit
            && best.is_none_or(|(_, (b, _))| at < b)
        {
            best = Some((index, (at, at + code.len())));
        }
    }
    best
}

/// The text holds a code like the catalog's (`CAP-2` where `CAP-1` exists: a first part
/// shared with a SKU, a `-` or `_`, and a digit) that is no SKU.
pub(super) fn unknown_sku(folded: &str, catalog: &[CatalogItem]) -> bool {
    let first_part = |code: &str| {
        code.split(['-', '_'])
            .next()
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
    };
    let known: BTreeSet<String> = catalog
        .iter()
        .filter_map(|item| first_part(&fold(&item.sku)))
        .collect();
    folded
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
        .map(|w| w.trim_matches(['-', '_']))
        .filter(|w| w.contains(['-', '_']) && w.chars().any(|c| c.is_ascii_digit()))
        .any(|w| first_part(w).is_some_and(|p| known.contains(&p)))
}

/// `a7` → `a`: the letters of a claim-code-shaped word (1–2 letters, then 1–3 digits).
pub(super) fn code_prefix(word: &str) -> Option<String> {
    let letters: String = word.chars().take_while(char::is_ascii_alphabetic).collect();
    let digits = &word[letters.len()..];
    ((1..=2).contains(&letters.len())
        && (1..=3).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit()))
    .then_some(letters)
}
