//! The numbers in a claim: how many units, and which numeric size (`size 9`, `talla 8`,
//! `9.5`, or a bare `9` when the item's sizes are numbers).
//!
//! A quantity is stated as digits (`2`, `sold 2`), `x2`/`x 2`/`×2`, `2x`, `2 pcs`/`2pcs`/
//! `2 piezas`/`2 pairs`, a number word (`two`, `dos`, `tres` … `twenty`/`veinte`), `a
//! couple`, or `a pair`/`un par` (two units, but one pair of an item sized in numbers, i.e.
//! shoes). Bare numbers from 1 to 20 are understood; larger bare numbers are prices, years
//! or ids and are not read. Never a quantity: a size (`size 8`, `talla 10`, `#8`, `8.5`), a
//! price (`$20`, `20 pesos`), a time or measure (`5:30`, `5 min`), a part of a code (`A2`,
//! `JKT-10`) or a number of the item's own title (`Air Max 90`).

use super::lexicon::{
    GROUP_WORDS, LETTER_SIZES, MONEY_CHARS, NOT_QUANTITY_AFTER, NOT_QUANTITY_BEFORE, NUMBER_WORDS,
    PAIR_WORDS, QUANTITY_MARKERS, QUANTITY_UNITS, SIZE_MARKERS, WEAK_NUMBER_WORDS,
};
use super::normalize::{Token, same_word};

/// What the numbers of a message say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Numbers {
    /// Units asked for, before the cap; `None` when unstated.
    pub quantity: Option<u32>,
    /// Numeric sizes named, in tenths (`9.5` → 95), including ones the item lacks.
    pub sizes: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hit {
    /// Stated as a quantity (`x2`, `2 pcs`, `a couple`).
    Quantity(u32),
    /// Stated as a size, in tenths (`size 9`, `9.5`).
    Size(u32),
    /// A number on its own; `weak` for `one`/`un`/`una`; `word` for number words.
    Bare { value: u32, weak: bool, word: bool },
}

/// Reads the numbers of `toks` (of `folded`), skipping tokens marked `used` (they named the
/// item). `sizes` are the item's numeric sizes in tenths (empty when its sizes are letters
/// or it has none).
pub(crate) fn read_numbers(
    folded: &str,
    toks: &[Token],
    used: &[bool],
    sizes: &[u32],
    max_quantity: u32,
) -> Numbers {
    let footwear = !sizes.is_empty();
    let text_at = |i: usize| toks.get(i).map_or("", |t: &Token| t.text.as_str());
    // A number before `pair`/`couple` makes it a unit (`2 pairs`), not a quantity of its own.
    let is_number_at = |i: usize| {
        toks.get(i)
            .is_some_and(|t| t.is_number() || number_word(&t.text).is_some_and(|(_, weak)| !weak))
    };
    let mut hits: Vec<Hit> = Vec::new();
    let mut skip_to = 0;
    for (i, t) in toks.iter().enumerate() {
        if i < skip_to || used[i] {
            continue;
        }
        if let Some(hit) = mixed(&t.text) {
            hits.push(hit);
            continue;
        }
        let prev = if i > 0 { text_at(i - 1) } else { "" };
        let next = text_at(i + 1);
        let value = if t.is_decimal() {
            if let Some(v) = tenths(&t.text)
                && footwear
                && !money_near(folded, t)
            {
                hits.push(Hit::Size(v));
            }
            continue;
        } else if t.is_number() {
            if t.joined {
                continue;
            }
            match t.text.parse::<u32>() {
                Ok(v) if t.text.len() <= 6 => (v, false, false),
                _ => continue,
            }
        } else if let Some((v, weak)) = number_word(&t.text) {
            (v, weak, true)
        } else if PAIR_WORDS.iter().any(|w| same_word(&t.text, w)) {
            if !is_number_at(i.wrapping_sub(1)) {
                hits.push(Hit::Quantity(if footwear { 1 } else { 2 }));
            }
            continue;
        } else if let Some(&(_, v)) = GROUP_WORDS.iter().find(|(w, _)| same_word(&t.text, w)) {
            if !is_number_at(i.wrapping_sub(1)) {
                hits.push(Hit::Quantity(v));
            }
            continue;
        } else {
            continue;
        };
        let (value, weak, word) = value;
        if money_near(folded, t)
            || NOT_QUANTITY_AFTER.contains(&next)
            || NOT_QUANTITY_BEFORE.contains(&prev)
        {
            continue;
        }
        if let Some(taken) = half_after(toks, i) {
            hits.push(Hit::Size(value * 10 + 5));
            skip_to = i + 1 + taken;
            continue;
        }
        if weak {
            // `un par` is a pair, `the blue one` a pronoun: let the words around decide.
            hits.push(Hit::Bare { value, weak, word });
        } else if SIZE_MARKERS.contains(&prev) || t.before == Some('#') {
            hits.push(Hit::Size(value * 10));
        } else if QUANTITY_MARKERS.contains(&prev)
            || QUANTITY_UNITS.contains(&next)
            || (next == "x" && !is_number_at(i + 2))
        {
            hits.push(Hit::Quantity(value));
        } else {
            hits.push(Hit::Bare { value, weak, word });
        }
    }
    resolve(&hits, sizes, max_quantity)
}

fn resolve(hits: &[Hit], sizes: &[u32], max_quantity: u32) -> Numbers {
    let mut named_sizes: Vec<u32> = hits
        .iter()
        .filter_map(|h| match h {
            Hit::Size(v) => Some(*v),
            _ => None,
        })
        .collect();
    let mut bare: Vec<(u32, bool, bool)> = hits
        .iter()
        .filter_map(|h| match *h {
            Hit::Bare { value, weak, word } => Some((value, weak, word)),
            _ => None,
        })
        .collect();
    if !sizes.is_empty() && named_sizes.is_empty() {
        // An item sized in numbers: a bare number that is one of its sizes is the size…
        let (as_size, rest): (Vec<_>, Vec<_>) = bare
            .iter()
            .partition(|(v, weak, _)| !weak && sizes.contains(&(v * 10)));
        if !as_size.is_empty() {
            named_sizes = as_size.iter().map(|(v, _, _)| v * 10).collect();
            bare = rest;
        } else {
            // …and a bare number above the cap but near its sizes is a size it lacks.
            let (lo, hi) = (sizes.iter().min().copied(), sizes.iter().max().copied());
            if let (Some(lo), Some(hi)) = (lo, hi)
                && let Some(pos) = bare.iter().position(|&(v, _, word)| {
                    !word && v > max_quantity && v * 10 + 40 >= lo && v * 10 <= hi + 40
                })
            {
                named_sizes.push(bare[pos].0 * 10);
                bare.remove(pos);
            }
        }
    }
    let stated = hits.iter().find_map(|h| match h {
        Hit::Quantity(v) if *v > 0 => Some(*v),
        _ => None,
    });
    let quantity = stated
        .or_else(|| {
            bare.iter()
                .find(|(v, weak, _)| !weak && (1..=20).contains(v))
                .map(|b| b.0)
        })
        .or_else(|| bare.iter().find(|b| b.1).map(|_| 1));
    Numbers {
        quantity,
        sizes: named_sizes,
    }
}

/// `x2`, `2x`, `2pcs`, `sz8`, `2m`: a number glued to a marker.
fn mixed(word: &str) -> Option<Hit> {
    let lead: String = word.chars().take_while(char::is_ascii_alphabetic).collect();
    let rest = &word[lead.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let trail = &rest[digits.len()..];
    if digits.is_empty() || digits.len() > 6 || !trail.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let n: u32 = digits.parse().ok()?;
    match (lead.as_str(), trail) {
        ("x", "") => Some(Hit::Quantity(n)),
        ("", "x") => Some(Hit::Quantity(n)),
        ("", unit) if QUANTITY_UNITS.contains(&unit) => Some(Hit::Quantity(n)),
        (marker, "") if SIZE_MARKERS.contains(&marker) => Some(Hit::Size(n * 10)),
        // `2xl` is a size (XXL), `90s` a decade; `2m` is two in M (the M is read as a size).
        ("", "xl") if (2..=4).contains(&n) => None,
        ("", "s") if digits.len() >= 2 => None,
        ("", size) if LETTER_SIZES.iter().any(|(p, _)| *p == size) => Some(Hit::Quantity(n)),
        _ => None,
    }
}

/// A number word's value, and whether it is a weak one (`one`, `un`, `una`).
fn number_word(word: &str) -> Option<(u32, bool)> {
    NUMBER_WORDS
        .iter()
        .find(|(w, _)| same_word(word, w))
        .map(|&(w, v)| (v, WEAK_NUMBER_WORDS.contains(&w)))
}

/// `8.5` → 85 (one decimal only: `19.99` is a price).
fn tenths(decimal: &str) -> Option<u32> {
    let (whole, frac) = decimal.split_once('.')?;
    if frac.len() != 1 || whole.len() > 4 {
        return None;
    }
    Some(whole.parse::<u32>().ok()? * 10 + frac.parse::<u32>().ok()?)
}

/// `9 y media`, `9 and a half`, `9 1/2`, `9½`: how many tokens after `i` say "and a half".
fn half_after(toks: &[Token], i: usize) -> Option<usize> {
    if toks[i].after == Some('½') {
        return Some(0);
    }
    let at = |k: usize| toks.get(i + k).map_or("", |t| t.text.as_str());
    match (at(1), at(2), at(3)) {
        ("y" | "and", "media" | "medio" | "half", _) => Some(2),
        ("and", "a", "half") => Some(3),
        ("1", "2", _) if toks[i + 1].after == Some('/') => Some(2),
        _ => None,
    }
}

/// A money or percent sign right before (spaces allowed: `$ 20`) or right after the number.
fn money_near(folded: &str, t: &Token) -> bool {
    let before = folded[..t.start].trim_end().chars().next_back();
    let after = t.after;
    before.is_some_and(|c| MONEY_CHARS.contains(&c))
        || after.is_some_and(|c| MONEY_CHARS.contains(&c))
}
