//! Typos in live chat ("ill tkae it", "lo qiero", "me lo yebo", "iwant it"): a word the
//! lexicon does not know is read as the one cue word it is a slip away from, or as two
//! words run together, before any cue is matched. The classifier keeps a reading only
//! where a cue then uses it, so "kinda" is never "linda" unless a cue needs it.
//!
//! A slip is one edit: two neighbouring letters swapped ("tkae"), one letter missing
//! ("qiero"), one letter replaced by a key next to it ("tale", "wamt"), or one extra
//! letter next to a key beside it ("miune"; never a final `s`, which is a plural).
//! Three-letter words only by a swap. Letters that sound alike in Spanish count as the
//! same (`b`/`v`, a leading `y`/`ll`, `qu`/`k`, `z`/`s`), so "kero" is one slip from
//! "quiero" and "yebo" none from "llevo". Known words are never changed: every word of the
//! lexicon, and common words, some a slip from a cue word ("mind", "same", "quiere").
//! Only the words of claims, links, praise and how-to cues are targets.
//!
//! Words of at most [`MAX_LEN`] letters are looked up through an index of each target with
//! one letter deleted, so a message costs time linear in its length.

use std::collections::{HashMap, HashSet};

use crate::classify::normalize::{Kind, Message, Token};

/// Longer words are left as they are (and cost nothing).
const MAX_LEN: usize = 16;
/// Shorter lexicon words are never targets: "it" and "me" have too many neighbours.
const MIN_TARGET: usize = 4;
/// Shorter words are never corrected.
const MIN_WORD: usize = 3;
/// Shorter `word*` stems are never targets ("haha*").
const MIN_STEM: usize = 6;

/// One rewritten word: its tokens `at..at + len` in the corrected message.
#[derive(Debug)]
pub(super) struct Fix {
    pub at: usize,
    pub len: usize,
    original: Token,
}

/// Put back the words of `fixes` for which `keep` says no (in one pass over the message);
/// whether any was.
pub(super) fn revert(msg: &mut Message, fixes: Vec<Fix>, keep: impl Fn(&Fix) -> bool) -> bool {
    let mut fixes = fixes.into_iter().filter(|fix| !keep(fix)).peekable();
    if fixes.peek().is_none() {
        return false;
    }
    let mut out = Vec::with_capacity(msg.tokens.len());
    let mut tokens = std::mem::take(&mut msg.tokens).into_iter().enumerate();
    while let Some((i, token)) = tokens.next() {
        match fixes.next_if(|fix| fix.at == i) {
            Some(fix) => {
                out.push(fix.original);
                for _ in 1..fix.len {
                    tokens.next();
                }
            }
            None => out.push(token),
        }
    }
    msg.tokens = out;
    true
}

/// What a word can be read as.
pub(super) struct Speller {
    /// Words never changed.
    known: HashSet<String>,
    /// Stems of `word*` patterns: a word starting with one is known.
    stems: Vec<String>,
    /// Stems a typo may be read as starting with ("aparatamelo" → "apartamelo").
    target_stems: Vec<String>,
    /// Lexicon words a typo may be read as, in their written form.
    targets: Vec<String>,
    /// Each target's sound-folded form.
    folded: Vec<Vec<char>>,
    /// Folded target, and each of its one-letter deletions, → targets.
    index: HashMap<String, Vec<u32>>,
    /// Words a run-together pair may start with ("iwant", "loquiero").
    heads: HashSet<String>,
    /// Words a run-together pair may end with ("takeit", "wantone").
    tails: HashSet<String>,
}

impl Speller {
    /// `known` words, and words starting with a `stem`, stay as written; `targets` and
    /// `target_stems` are what typos are read as.
    pub(super) fn new<'a>(
        known: impl IntoIterator<Item = &'a str>,
        stems: impl IntoIterator<Item = &'a str>,
        targets: impl IntoIterator<Item = &'a str>,
        target_stems: impl IntoIterator<Item = &'a str>,
        heads: &[&str],
        tails: &[&str],
    ) -> Speller {
        let mut speller = Speller {
            known: known.into_iter().map(str::to_owned).collect(),
            stems: stems.into_iter().map(str::to_owned).collect(),
            target_stems: target_stems
                .into_iter()
                .filter(|s| s.chars().count() >= MIN_STEM)
                .map(str::to_owned)
                .collect(),
            targets: Vec::new(),
            folded: Vec::new(),
            index: HashMap::new(),
            heads: heads.iter().map(|w| (*w).to_owned()).collect(),
            tails: tails.iter().map(|w| (*w).to_owned()).collect(),
        };
        // Spellings that sound the same ("kiero", "quiero") are one target: the first given.
        let mut seen = HashSet::new();
        for target in targets {
            let folded = fold(target);
            if folded.len() < MIN_TARGET
                || folded.len() > MAX_LEN
                || !target.chars().all(char::is_alphabetic)
                || !seen.insert(folded.clone())
            {
                continue;
            }
            let id = speller.targets.len() as u32;
            for key in keys(&folded) {
                let ids = speller.index.entry(key).or_default();
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            speller.targets.push(target.to_owned());
            speller.folded.push(folded);
        }
        speller
    }

    /// Rewrite the message's unknown words as the words they were meant to be; what was
    /// rewritten, so that [`revert`] can put back what no cue used.
    pub(super) fn correct(&self, msg: &mut Message) -> Vec<Fix> {
        let mut out = Vec::with_capacity(msg.tokens.len());
        let mut fixes = Vec::new();
        for token in std::mem::take(&mut msg.tokens) {
            super::work::step();
            if token.kind != Kind::Word || self.is_known(&token.text) {
                out.push(token);
                continue;
            }
            match self.reading(&token.text) {
                Some(words) => {
                    fixes.push(Fix {
                        at: out.len(),
                        len: words.len(),
                        original: token.clone(),
                    });
                    out.extend(words.into_iter().map(|text| Token {
                        text,
                        ..token.clone()
                    }));
                }
                None => out.push(token),
            }
        }
        msg.tokens = out;
        fixes
    }

    /// The words an unknown `word` was meant to be: two known words run together, else
    /// the nearest target, else two words run together with a slip in one.
    fn reading(&self, word: &str) -> Option<Vec<String>> {
        if let Some((head, tail)) = self.split(word, true) {
            return Some(vec![head, tail]);
        }
        if let Some(word) = self.nearest(word) {
            return Some(vec![word]);
        }
        self.split(word, false).map(|(head, tail)| vec![head, tail])
    }

    fn is_known(&self, word: &str) -> bool {
        self.known.contains(word)
            || self
                .stems
                .iter()
                .any(|stem| word.len() > stem.len() && word.starts_with(stem.as_str()))
    }

    /// What `word` was meant to be: the target it is one slip from (the cheapest slip; none
    /// when two targets tie), else a `word*` stem it starts with a slip away from
    /// ("aparatamelo" → "apartamelo").
    pub(super) fn nearest(&self, word: &str) -> Option<String> {
        let len = word.chars().count();
        if !(MIN_WORD..=MAX_LEN).contains(&len) || !word.chars().all(char::is_alphabetic) {
            return None;
        }
        let folded = fold(word);
        let mut best: Option<(u8, u32)> = None;
        let mut tied = false;
        for key in keys(&folded) {
            for &id in self.index.get(&key).into_iter().flatten() {
                super::work::step();
                let Some(cost) = slip(&folded, &self.folded[id as usize]) else {
                    continue;
                };
                if len < MIN_TARGET && cost != SWAP {
                    continue;
                }
                match best {
                    Some((c, b)) if b == id || c < cost => {}
                    Some((c, _)) if c == cost => tied = true,
                    _ => {
                        best = Some((cost, id));
                        tied = false;
                    }
                }
            }
        }
        match best {
            Some((_, id)) if !tied => Some(self.targets[id as usize].clone()),
            Some(_) => None,
            None => self.stem_slip(word),
        }
    }

    /// `word` starting with a stem of at least [`MIN_STEM`] letters, give or take one slip.
    fn stem_slip(&self, word: &str) -> Option<String> {
        let chars: Vec<char> = word.chars().collect();
        let mut best: Option<(u8, &str, usize)> = None;
        for stem in &self.target_stems {
            let target: Vec<char> = stem.chars().collect();
            for len in target.len() - 1..=target.len() + 1 {
                if len > chars.len() {
                    break;
                }
                if let Some(cost) = slip(&chars[..len], &target)
                    && best.is_none_or(|(c, _, _)| cost < c)
                {
                    best = Some((cost, stem, len));
                }
            }
        }
        best.map(|(_, stem, len)| format!("{stem}{}", chars[len..].iter().collect::<String>()))
    }

    /// "iwant" → ("i", "want"), "takeit" → ("take", "it"), and unless `exact`, "loqiero"
    /// → ("lo", "quiero").
    fn split(&self, word: &str, exact: bool) -> Option<(String, String)> {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() > MAX_LEN {
            return None;
        }
        let whole = |part: &str| -> Option<String> {
            if self.known.contains(part) {
                Some(part.to_owned())
            } else if exact {
                None
            } else {
                self.nearest(part)
            }
        };
        for at in 1..chars.len() {
            let head: String = chars[..at].iter().collect();
            let tail: String = chars[at..].iter().collect();
            if self.heads.contains(&head)
                && tail.chars().count() >= MIN_TARGET - 1
                && let Some(tail) = whole(&tail)
            {
                return Some((head, tail));
            }
            if self.tails.contains(&tail)
                && head.chars().count() >= MIN_TARGET - 1
                && let Some(head) = whole(&head)
            {
                return Some((head, tail));
            }
        }
        None
    }
}

/// Sound-alike letters folded to one: `qu`/`q`/`k` → `k`, `v` → `b`, `z` → `s`, a leading
/// `y` before a vowel → `l` ("ll" is already squeezed to "l").
fn fold(word: &str) -> Vec<char> {
    let chars: Vec<char> = word.chars().collect();
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            'q' => {
                out.push('k');
                if chars.get(i + 1) == Some(&'u') {
                    i += 1;
                }
            }
            'v' => out.push('b'),
            'z' => out.push('s'),
            'y' if i == 0 && chars.get(1).is_some_and(|n| "aeiou".contains(*n)) => out.push('l'),
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// The word and each of its one-letter deletions.
fn keys(folded: &[char]) -> impl Iterator<Item = String> + '_ {
    std::iter::once(folded.iter().collect()).chain((0..folded.len()).map(|skip| {
        folded
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, c)| *c)
            .collect()
    }))
}

/// A swap of neighbouring letters, the only slip a three-letter word may have ("teh").
const SWAP: u8 = 1;

/// The cost of the one slip turning `word` into `target`: 0 for the same folded word,
/// 1 for a swap of neighbours, 2 for a letter missing, 3 for a neighbouring key, 4 for a
/// letter extra ("kero" is "quiero" missing an `i` before it is "quedo" with `r` for `d`;
/// "compo" is "compro" missing an `r` before it is "como" with an extra `p`). An extra
/// letter must be a key next to a letter beside it ("miune", "tajke"), and never a final
/// `s`: "chicas" is not a typo of "chica".
fn slip(word: &[char], target: &[char]) -> Option<u8> {
    use std::cmp::Ordering;
    match word.len().cmp(&target.len()) {
        Ordering::Equal => {
            let diffs: Vec<usize> = (0..word.len()).filter(|&i| word[i] != target[i]).collect();
            match diffs.as_slice() {
                [] => Some(0),
                [i] => adjacent_keys(word[*i], target[*i]).then_some(3),
                [i, j] if *j == i + 1 && word[*i] == target[*j] && word[*j] == target[*i] => {
                    Some(1)
                }
                _ => None,
            }
        }
        // One letter missing from `word`, or one extra in it.
        Ordering::Less if target.len() == word.len() + 1 => extra_at(target, word).map(|_| 2),
        Ordering::Greater if word.len() == target.len() + 1 => {
            let at = extra_at(word, target)?;
            let extra = word[at];
            let beside = |i: Option<usize>| {
                i.and_then(|i| word.get(i))
                    .is_some_and(|&c| adjacent_keys(c, extra))
            };
            let fat_finger = beside(at.checked_sub(1)) || beside(Some(at + 1));
            let plural = at == word.len() - 1 && extra == 's';
            (fat_finger && !plural).then_some(4)
        }
        _ => None,
    }
}

/// Where `long` has the one letter `short` lacks, if that is all that differs.
fn extra_at(long: &[char], short: &[char]) -> Option<usize> {
    let first = long.iter().zip(short).take_while(|(a, b)| a == b).count();
    (long[first + 1..] == short[first..]).then_some(first)
}

/// Neighbours on a QWERTY keyboard.
fn adjacent_keys(a: char, b: char) -> bool {
    const ROWS: [&str; 3] = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];
    let at = |c: char| {
        ROWS.iter()
            .enumerate()
            .find_map(|(r, row)| row.find(c).map(|col| (r as i32, col as i32)))
    };
    let (Some((ra, ca)), Some((rb, cb))) = (at(a), at(b)) else {
        return false;
    };
    // Each row sits about half a key right of the one above it.
    match rb - ra {
        0 => (ca - cb).abs() == 1,
        1 => cb == ca || cb == ca - 1,
        -1 => ca == cb || ca == cb - 1,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speller() -> Speller {
        let targets = [
            "take", "want", "quiero", "llevo", "mine", "sold", "apartas", "it",
        ];
        let known = targets
            .iter()
            .copied()
            .chain(["i", "lo", "me", "mind", "it", "one"]);
        Speller::new(
            known,
            ["aparta"],
            targets,
            ["aparta"],
            &["i", "lo"],
            &["it", "one"],
        )
    }

    fn corrected(text: &str) -> Vec<String> {
        let mut msg = crate::classify::normalize::tokenize(text);
        speller().correct(&mut msg);
        msg.tokens.into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn one_slip_from_a_cue_word_reads_as_that_word() {
        assert_eq!(corrected("i tkae it"), ["i", "take", "it"]);
        assert_eq!(corrected("i tale it"), ["i", "take", "it"]);
        assert_eq!(corrected("i wamt it"), ["i", "want", "it"]);
        assert_eq!(corrected("lo qiero"), ["lo", "quiero"]);
        assert_eq!(corrected("lo kero"), ["lo", "quiero"]);
        assert_eq!(corrected("me lo yebo"), ["me", "lo", "llevo"]);
        assert_eq!(corrected("miune"), ["mine"]);
    }

    #[test]
    fn run_together_words_are_split() {
        assert_eq!(corrected("iwant it"), ["i", "want", "it"]);
        assert_eq!(corrected("takeit"), ["take", "it"]);
        assert_eq!(corrected("loqiero"), ["lo", "quiero"]);
    }

    #[test]
    fn known_words_distant_keys_and_long_words_stay() {
        assert_eq!(corrected("never mind"), ["never", "mind"]);
        // Three letters are too few to guess from, but for a swap.
        assert_eq!(corrected("i wan it"), ["i", "wan", "it"]);
        // m and t are far apart: "make" is not a slip for "take".
        assert_eq!(corrected("i make it"), ["i", "make", "it"]);
        assert_eq!(corrected("apartamelo"), ["apartamelo"]);
        assert_eq!(corrected("aparatamelo"), ["apartaamelo"]);
        let long = "ab".repeat(20);
        assert_eq!(corrected(&long), std::slice::from_ref(&long));
    }

    #[test]
    fn slips_are_priced() {
        let f = |s: &str| fold(s);
        assert_eq!(slip(&f("tkae"), &f("take")), Some(1));
        assert_eq!(slip(&f("takr"), &f("take")), Some(3));
        assert_eq!(slip(&f("tak"), &f("take")), Some(2));
        assert_eq!(slip(&f("tajke"), &f("take")), Some(4));
        assert_eq!(slip(&f("tapke"), &f("take")), None);
        assert_eq!(slip(&f("chicas"), &f("chica")), None);
        assert_eq!(slip(&f("tabe"), &f("take")), None);
        assert!(adjacent_keys('k', 'l') && adjacent_keys('a', 's') && adjacent_keys('e', 'r'));
        assert!(adjacent_keys('g', 'v') && !adjacent_keys('m', 't') && !adjacent_keys('f', 'm'));
    }
}
