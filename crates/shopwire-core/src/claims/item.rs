//! Which item a message names: a claim code, a SKU or product code, a title, a lineup
//! item's own word, else the pinned item (docs/contract.md §9). SKUs are named only as whole
//! codes and titles by a share of their words of at least 0.7; this is the one matcher the
//! worker and the admin CLI use ([`named_in`] for a plain SKU-or-title lookup).

use std::collections::BTreeSet;

mod codes;

use codes::{code_prefix, find_code, first_code, product_code_prefix, unknown_sku};

use super::lexicon::{GARMENT_SYNONYMS, STOPWORDS};
use super::normalize::{Token, close_word, fold, same_word, tokens};
use super::{CatalogItem, LiveContext};

/// A title is named when the text has at least this share of its significant words
/// (docs/contract.md §3's confidence floor).
pub const MIN_TITLE_SHARE: f32 = 0.7;

/// `code` appears in `text` as a whole code, not as part of a longer one: `JKT-1` is not
/// named by `JKT-10` or `XJKT-1`, and a full stop after it ends the sentence, not the code.
/// Case and accents are folded. Returns where it first appears in the folded text.
pub fn code_position(text: &str, code: &str) -> Option<usize> {
    find_code(&fold(text), &fold(code))
}

/// True when any of `codes` appears in `text` as a whole code ([`code_position`]). The
/// text is folded once, however many codes are looked for (folding it per code made the
/// worker's "does this message name a code?" check cost codes × length).
pub fn names_any_code<'a>(text: &str, codes: impl IntoIterator<Item = &'a str>) -> bool {
    let folded = fold(text);
    codes
        .into_iter()
        .any(|code| find_code(&folded, &fold(code)).is_some())
}

/// The share (0–1) of `title`'s significant words (3+ letters, not stopwords) that `text`
/// names, forgiving repeated letters, plurals and one typo in a long word.
pub fn title_share(title: &str, text: &str) -> f32 {
    let words: Vec<String> = tokens(&fold(text)).into_iter().map(|t| t.bare).collect();
    share(&significant_words(title), &words)
}

/// The catalog entry a text names by SKU (score 1.0) or by title (its share, at least
/// [`MIN_TITLE_SHARE`]): the first SKU named in the text, else the best title, the earliest
/// entry on a tie, over a [`CatalogItem`] list (`product_code` = `sku` and no options for
/// plain products).
pub fn named_in(text: &str, catalog: &[CatalogItem]) -> Option<(usize, f32)> {
    let folded = fold(text);
    let toks = tokens(&folded);
    if let Some((index, _)) = first_code(&folded, &toks, catalog, |item| &item.sku) {
        return Some((index, 1.0));
    }
    best_title(&toks, catalog)
}

/// What the text points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// Exactly this catalog entry (a SKU named, or a plain product).
    Sku(usize),
    /// A product code; the variant is read from the option values named.
    Family(String),
}

/// How the item was found, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Via {
    Code,
    Sku,
    Title,
    LineupWord,
    Pinned,
}

/// The item read, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    Found {
        target: Target,
        via: Via,
        /// Byte ranges of the folded text that named it (not read again as numbers).
        spans: Vec<(usize, usize)>,
    },
    /// A code shaped like a lineup code or a catalog SKU that names nothing (`A7`,
    /// `CAP-2`): the buyer meant something specific that is not there.
    UnknownCode,
    Nothing,
}

/// The target a lineup entry or pin (a SKU or a product code) points at in the catalog.
pub(crate) fn resolve(code: &str, catalog: &[CatalogItem]) -> Option<Target> {
    let code = fold(code);
    let family: Vec<usize> = (0..catalog.len())
        .filter(|&i| fold(&catalog[i].product_code) == code)
        .collect();
    match family.as_slice() {
        [only] => return Some(Target::Sku(*only)),
        [_, _, ..] => return Some(Target::Family(catalog[family[0]].product_code.clone())),
        [] => {}
    }
    (0..catalog.len())
        .find(|&i| fold(&catalog[i].sku) == code)
        .map(Target::Sku)
}

/// The item `toks` (of `folded`) names, in the order of [`Via`].
pub(crate) fn find(
    folded: &str,
    toks: &[Token],
    catalog: &[CatalogItem],
    live: &LiveContext,
) -> Item {
    let sku = first_code(folded, toks, catalog, |item| &item.sku);
    let product = first_code(folded, toks, catalog, |item| &item.product_code);
    let code_spans: Vec<(usize, usize)> = [sku, product].iter().flatten().map(|c| c.1).collect();
    let outside_codes = |t: &Token| !code_spans.iter().any(|&(s, e)| t.start >= s && t.end <= e);

    // 1. A lineup claim code.
    let lineup: Vec<(String, &str)> = live
        .lineup
        .iter()
        .map(|(code, target)| (fold(code), target.as_str()))
        .collect();
    for t in toks.iter().filter(|t| outside_codes(t)) {
        if let Some((_, target)) = lineup.iter().find(|(code, _)| *code == t.text) {
            return match resolve(target, catalog) {
                Some(target) => Item::Found {
                    target,
                    via: Via::Code,
                    spans: vec![(t.start, t.end)],
                },
                None => Item::UnknownCode,
            };
        }
    }
    let prefixes: BTreeSet<String> = lineup.iter().filter_map(|(c, _)| code_prefix(c)).collect();
    if toks.iter().any(|t| {
        !t.joined && outside_codes(t) && code_prefix(&t.text).is_some_and(|p| prefixes.contains(&p))
    }) {
        return Item::UnknownCode;
    }

    // 2. A SKU or product code, whichever comes first; then a product code starting an
    //    unknown SKU (`JKT-DNM-XL` names the jacket, its variant read from the rest).
    let named = match (sku, product) {
        (Some(s), Some(p)) if p.1.0 < s.1.0 => Some((family_target(p.0, catalog), p.1)),
        (Some(s), _) => Some((Target::Sku(s.0), s.1)),
        (None, Some(p)) => Some((family_target(p.0, catalog), p.1)),
        (None, None) => None,
    };
    if let Some((target, span)) = named {
        return Item::Found {
            target,
            via: Via::Sku,
            spans: vec![span],
        };
    }
    if let Some((index, span)) = product_code_prefix(folded, catalog) {
        return Item::Found {
            target: family_target(index, catalog),
            via: Via::Sku,
            spans: vec![span],
        };
    }
    if unknown_sku(folded, catalog) {
        return Item::UnknownCode;
    }

    // 3. A title.
    if let Some((index, _)) = best_title(toks, catalog) {
        return Item::Found {
            target: family_target(index, catalog),
            via: Via::Title,
            spans: Vec::new(),
        };
    }

    // 4. A word only one lineup item's title has.
    if let Some(target) = lineup_word(toks, catalog, live) {
        return Item::Found {
            target,
            via: Via::LineupWord,
            spans: Vec::new(),
        };
    }

    // 5. The item on screen.
    match live.pinned.as_deref().and_then(|p| resolve(p, catalog)) {
        Some(target) => Item::Found {
            target,
            via: Via::Pinned,
            spans: Vec::new(),
        },
        None => Item::Nothing,
    }
}

/// Entry `index`'s whole product: itself when it has no siblings, else its family.
pub(crate) fn family_target(index: usize, catalog: &[CatalogItem]) -> Target {
    let code = &catalog[index].product_code;
    if catalog.iter().filter(|c| &c.product_code == code).count() > 1 {
        Target::Family(code.clone())
    } else {
        Target::Sku(index)
    }
}

pub(crate) fn significant_words(title: &str) -> Vec<String> {
    tokens(&fold(title))
        .into_iter()
        .map(|t| t.bare)
        .filter(|w| w.chars().count() >= 3 && !STOPWORDS.contains(&w.as_str()))
        .collect()
}

fn share(significant: &[String], words: &[String]) -> f32 {
    if significant.is_empty() {
        return 0.0;
    }
    let hits = significant
        .iter()
        .filter(|s| words.iter().any(|w| close_word(w, s)))
        .count();
    hits as f32 / significant.len() as f32
}

/// The catalog entry with the highest title share, if at least [`MIN_TITLE_SHARE`].
fn best_title(toks: &[Token], catalog: &[CatalogItem]) -> Option<(usize, f32)> {
    let words: Vec<String> = toks.iter().map(|t| t.bare.clone()).collect();
    let mut best: Option<(usize, f32)> = None;
    let mut seen = BTreeSet::new();
    for (index, item) in catalog.iter().enumerate() {
        if !seen.insert(item.title.as_str()) {
            continue;
        }
        let score = share(&significant_words(&item.title), &words);
        if score > best.map_or(0.0, |b| b.1) {
            best = Some((index, score));
        }
    }
    best.filter(|b| b.1 >= MIN_TITLE_SHARE)
}

/// A lineup item named by a title word (or its EN/ES garment synonym) that no other lineup
/// item's title has: "the hoodie" while the jacket is pinned. Size, colour and number words
/// never count.
fn lineup_word(toks: &[Token], catalog: &[CatalogItem], live: &LiveContext) -> Option<Target> {
    let mut items: Vec<(Target, Vec<String>)> = Vec::new();
    for (_, code) in &live.lineup {
        let Some(target) = resolve(code, catalog) else {
            continue;
        };
        if items.iter().any(|(t, _)| *t == target) {
            continue;
        }
        let title = match &target {
            Target::Sku(i) => &catalog[*i].title,
            Target::Family(code) => match catalog.iter().find(|c| &c.product_code == code) {
                Some(item) => &item.title,
                None => continue,
            },
        };
        let words = significant_words(title)
            .into_iter()
            .filter(|w| {
                !super::variant::is_option_word(w) && !w.bytes().all(|b| b.is_ascii_digit())
            })
            .collect();
        items.push((target, words));
    }
    let names = |word: &str, title_words: &[String]| {
        title_words.iter().any(|tw| {
            close_word(word, tw)
                || GARMENT_SYNONYMS.iter().any(|group| {
                    group.iter().any(|g| same_word(word, g))
                        && group.iter().any(|g| same_word(tw, g))
                })
        })
    };
    let mut chosen: BTreeSet<usize> = BTreeSet::new();
    for t in toks {
        let word = t.bare.as_str();
        if word.chars().count() < 3
            || STOPWORDS.contains(&word)
            || super::variant::is_option_word(word)
            || word.bytes().any(|b| b.is_ascii_digit())
        {
            continue;
        }
        let hits: Vec<usize> = (0..items.len())
            .filter(|&i| names(word, &items[i].1))
            .collect();
        if let [only] = hits.as_slice() {
            chosen.insert(*only);
        }
    }
    match chosen.into_iter().collect::<Vec<_>>().as_slice() {
        [only] => Some(items[*only].0.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
