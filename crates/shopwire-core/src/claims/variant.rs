//! Which variant of an item the text names, from its option values (docs/contract.md §9).
//!
//! A value is named when the text has its size (`M`, `medium`, `mediana`, `med`; `XL`,
//! `extra large`, `extra grande`; `9`, `talla 9`, `9.5`), its colour in English or Spanish
//! (`black`/`negro`/`negra`, `grey`/`gray`/`gris`, `navy`/`azul marino` …), its own words
//! (`heather grey`), or a word of it no other value has (`heather`). Case, accents and
//! repeated letters do not matter. A size or colour the item has no value for is "a value
//! it lacks". Colours and sizes only count for an item that has that kind of option.

use std::collections::{BTreeMap, BTreeSet};

use super::CatalogItem;
use super::lexicon::{COLOURS, LETTER_SIZES, NUMBER_WORDS, SIZE_MARKERS};
use super::normalize::{Token, fold, same_word, tokens};
use super::quantity::Numbers;

/// A size: a letter size by its place in the order (XS 1, S 2, M 3 …), or a number in
/// tenths (`9.5` → 95).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Size {
    Letter(u8),
    Number(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Size,
    Colour,
    Other,
}

/// The variant the text selects, or none.
#[derive(Debug)]
pub(crate) enum Choice<'a> {
    One(&'a CatalogItem),
    Open,
}

/// A size, colour or number word: never a word that names an item.
pub(crate) fn is_option_word(word: &str) -> bool {
    let in_phrase = |phrase: &str| phrase.split(' ').any(|p| same_word(word, p));
    LETTER_SIZES.iter().any(|(p, _)| in_phrase(p))
        || COLOURS.iter().any(|(p, _)| in_phrase(p))
        || NUMBER_WORDS.iter().any(|(w, _)| same_word(word, w))
}

/// The item's numeric sizes in tenths (`["8", "9.5"]` → `[80, 95]`); empty when its sizes
/// are letters or it has none.
pub(crate) fn numeric_sizes(family: &[&CatalogItem]) -> Vec<u32> {
    let options = options_of(family);
    let mut out: Vec<u32> = options
        .iter()
        .filter(|(name, values)| kind(name, values) == Kind::Size)
        .flat_map(|(_, values)| values.iter().filter_map(|v| number_size(v)))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Every option of the item with its values, in size order for sizes and alphabetically
/// otherwise.
pub(crate) fn options_of(family: &[&CatalogItem]) -> BTreeMap<String, Vec<String>> {
    let mut sets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for item in family {
        for (name, value) in &item.options {
            sets.entry(name.clone()).or_default().insert(value.clone());
        }
    }
    sets.into_iter()
        .map(|(name, values)| {
            let mut values: Vec<String> = values.into_iter().collect();
            values.sort_by_cached_key(|v| match value_size(v) {
                Some(Size::Letter(n)) => (0, u32::from(n), String::new()),
                Some(Size::Number(n)) => (1, n, String::new()),
                None => (2, 0, fold(v)),
            });
            (name, values)
        })
        .collect()
}

/// The variant of `family` (two or more entries) that `toks` select, given the numbers
/// already read.
pub(crate) fn choose<'a>(
    family: &[&'a CatalogItem],
    toks: &[Token],
    used: &[bool],
    numbers: &Numbers,
) -> Choice<'a> {
    let said = mentions(toks, used, numbers);
    let mut allowed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, values) in options_of(family) {
        let kind = kind(&name, &values);
        let named: BTreeSet<String> = values
            .iter()
            .filter(|v| names_value(v, &values, &said, toks, used))
            .cloned()
            .collect();
        let sizes: Vec<Size> = values.iter().filter_map(|v| value_size(v)).collect();
        let colours: Vec<&str> = values.iter().flat_map(|v| colours_of(v)).collect();
        let lacking = match kind {
            Kind::Size => said.sizes.iter().any(|s| !sizes.contains(s)),
            Kind::Colour => said.colours.iter().any(|c| !colours.contains(c)),
            Kind::Other => false,
        };
        if lacking {
            return Choice::Open;
        }
        if !named.is_empty() {
            allowed.insert(name, named);
        }
    }
    let mut candidates = family.iter().filter(|item| {
        allowed
            .iter()
            .all(|(name, named)| item.options.get(name).is_some_and(|v| named.contains(v)))
    });
    match (candidates.next(), candidates.next()) {
        (Some(one), None) => Choice::One(one),
        _ => Choice::Open,
    }
}

/// The sizes and colours a message names.
#[derive(Debug, Default)]
struct Mentions {
    sizes: Vec<Size>,
    colours: Vec<&'static str>,
}

fn mentions(toks: &[Token], used: &[bool], numbers: &Numbers) -> Mentions {
    let mut said = Mentions {
        sizes: numbers.sizes.iter().map(|&n| Size::Number(n)).collect(),
        colours: Vec::new(),
    };
    let mut i = 0;
    while i < toks.len() {
        if used[i] {
            i += 1;
            continue;
        }
        if let Some((len, size)) = phrase_at(toks, used, i, LETTER_SIZES) {
            said.sizes.push(Size::Letter(size));
            i += len;
        } else if let Some((len, colour)) = phrase_at(toks, used, i, COLOURS) {
            said.colours.push(colour);
            i += len;
        } else {
            if let Some(size) = glued_size(&toks[i].text) {
                said.sizes.push(Size::Letter(size));
            }
            i += 1;
        }
    }
    said
}

/// The longest phrase of `lexicon` starting at token `i`, with its length in tokens.
fn phrase_at<T: Copy>(
    toks: &[Token],
    used: &[bool],
    i: usize,
    lexicon: &[(&str, T)],
) -> Option<(usize, T)> {
    let mut best: Option<(usize, T)> = None;
    for &(phrase, value) in lexicon {
        let words: Vec<&str> = phrase.split(' ').collect();
        if words.len() <= best.map_or(0, |b| b.0) || i + words.len() > toks.len() {
            continue;
        }
        let fits = words
            .iter()
            .enumerate()
            .all(|(k, w)| !used[i + k] && same_word(&toks[i + k].text, w));
        if fits {
            best = Some((words.len(), value));
        }
    }
    best
}

/// `2m` → M (two in M); `90s` is a decade, not a size.
fn glued_size(word: &str) -> Option<u8> {
    let digits = word.chars().take_while(char::is_ascii_digit).count();
    let trail = &word[digits..];
    if digits == 0 || digits > 2 || (trail == "s" && digits >= 2) {
        return None;
    }
    LETTER_SIZES
        .iter()
        .find(|(p, _)| *p == trail)
        .map(|&(_, n)| n)
}

fn names_value(
    value: &str,
    values: &[String],
    said: &Mentions,
    toks: &[Token],
    used: &[bool],
) -> bool {
    if value_size(value).is_some_and(|s| said.sizes.contains(&s)) {
        return true;
    }
    if colours_of(value).iter().any(|c| said.colours.contains(c)) {
        return true;
    }
    let words: Vec<String> = tokens(&fold(value)).into_iter().map(|t| t.text).collect();
    if words.is_empty() {
        return false;
    }
    // The value's own words, in a row.
    let in_row = (0..toks.len()).any(|i| {
        i + words.len() <= toks.len()
            && words
                .iter()
                .enumerate()
                .all(|(k, w)| !used[i + k] && same_word(&toks[i + k].text, w))
    });
    if in_row && (words.len() > 1 || words[0].chars().count() > 1) {
        return true;
    }
    // A word of it (4+ letters, not a size or colour) that no other value of the option has.
    words.iter().any(|w| {
        w.chars().count() >= 4
            && !is_option_word(w)
            && values
                .iter()
                .filter(|other| other.as_str() != value)
                .all(|other| !fold(other).contains(w.as_str()))
            && toks
                .iter()
                .zip(used)
                .any(|(t, &u)| !u && same_word(&t.text, w))
    })
}

fn kind(name: &str, values: &[String]) -> Kind {
    let name = fold(name);
    if ["size", "talla", "tamano"].iter().any(|n| name.contains(n)) {
        Kind::Size
    } else if name.contains("colo") {
        Kind::Colour
    } else if values.iter().all(|v| value_size(v).is_some()) {
        Kind::Size
    } else if values.iter().all(|v| !colours_of(v).is_empty()) {
        Kind::Colour
    } else {
        Kind::Other
    }
}

/// An option value's size: `M`, `Medium`, `XL`, `9`, `9.5`, `US 9`.
pub(crate) fn value_size(value: &str) -> Option<Size> {
    if let Some(n) = number_size(value) {
        return Some(Size::Number(n));
    }
    let toks = tokens(&fold(value));
    let used = vec![false; toks.len()];
    match phrase_at(&toks, &used, 0, LETTER_SIZES) {
        Some((len, n)) if len == toks.len() => Some(Size::Letter(n)),
        _ => None,
    }
}

fn number_size(value: &str) -> Option<u32> {
    let folded = fold(value);
    let toks = tokens(&folded);
    let number = match toks.as_slice() {
        [n] => n,
        [marker, n] if SIZE_MARKERS.contains(&marker.text.as_str()) => n,
        _ => return None,
    };
    match number.text.split_once('.') {
        Some((whole, frac)) if frac.len() == 1 => {
            Some(whole.parse::<u32>().ok()? * 10 + frac.parse::<u32>().ok()?)
        }
        Some(_) => None,
        None if number.text.len() <= 4 => Some(number.text.parse::<u32>().ok()? * 10),
        None => None,
    }
}

fn colours_of(value: &str) -> Vec<&'static str> {
    let toks = tokens(&fold(value));
    let used = vec![false; toks.len()];
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match phrase_at(&toks, &used, i, COLOURS) {
            Some((len, colour)) => {
                out.push(colour);
                i += len;
            }
            None => i += 1,
        }
    }
    out
}
