//! The compiled lexicon and the matcher: cue patterns indexed by first word, matched
//! longest-first over a message's tokens, each cue's guard checked in context.

use std::collections::{HashMap, HashSet};

use super::spelling::Speller;
use crate::classify::Intent;
use crate::classify::lexicon::{self, Guard, Role};
use crate::classify::normalize::{self, Kind, Message, Token};

/// One position of a cue pattern.
#[derive(Debug)]
pub(super) enum Pat {
    Exact(String),
    Prefix(String),
    Count,
    Size,
}

/// A compiled cue.
#[derive(Debug)]
pub(super) struct Cue {
    /// The pattern as the lexicon writes it.
    pub text: &'static str,
    pub pats: Vec<Pat>,
    pub role: Role,
    pub weight: f32,
    pub guard: Guard,
}

/// A cue found at `start..end`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Hit {
    pub cue: usize,
    pub start: usize,
    pub end: usize,
}

pub(super) type WordSet = HashSet<String>;

/// The lexicon, compiled: cues indexed by first word, word sets normalized.
pub(super) struct Lexicon {
    pub cues: Vec<Cue>,
    /// Cues by their first word, and those starting with a wildcard.
    pub by_first: HashMap<String, Vec<usize>>,
    pub wildcard_first: Vec<usize>,
    pub negators: WordSet,
    pub not_negating_after_no: WordSet,
    pub subjects: WordSet,
    pub clitics: WordSet,
    pub fillers: WordSet,
    pub sizes: WordSet,
    pub count_words: WordSet,
    pub not_claim_before: WordSet,
    pub claim_after: WordSet,
    pub si_verbs: WordSet,
    pub link_acknowledged: WordSet,
    pub link_asks: HashSet<&'static str>,
    /// Reads typos as the cue words they were meant to be.
    pub speller: Speller,
}

impl Lexicon {
    pub(super) fn build() -> Lexicon {
        let mut lexicon = Lexicon {
            cues: Vec::new(),
            by_first: HashMap::new(),
            wildcard_first: Vec::new(),
            negators: words(lexicon::NEGATORS),
            not_negating_after_no: words(lexicon::NOT_NEGATING_AFTER_NO),
            subjects: words(lexicon::SUBJECTS),
            clitics: words(lexicon::CLITICS),
            fillers: words(lexicon::FILLERS),
            sizes: words(lexicon::SIZES),
            count_words: words(lexicon::COUNT_WORDS),
            not_claim_before: words(lexicon::NOT_CLAIM_BEFORE),
            claim_after: words(lexicon::CLAIM_AFTER),
            si_verbs: words(lexicon::SI_VERBS),
            link_acknowledged: words(lexicon::LINK_ACKNOWLEDGED),
            link_asks: lexicon::LINK_ASKS.iter().copied().collect(),
            speller: Speller::new([], [], [], [], &[], &[]),
        };
        for group in lexicon::GROUPS {
            for pattern in group.patterns {
                let pats = parse(pattern);
                let index = lexicon.cues.len();
                match pats.first() {
                    Some(Pat::Exact(word)) => lexicon
                        .by_first
                        .entry(word.clone())
                        .or_default()
                        .push(index),
                    Some(_) => lexicon.wildcard_first.push(index),
                    None => continue,
                }
                lexicon.cues.push(Cue {
                    text: pattern,
                    pats,
                    role: group.role,
                    weight: group.weight,
                    guard: group.guard,
                });
            }
        }
        lexicon.speller = lexicon.build_speller();
        lexicon
    }

    /// Every word the lexicon knows stays as written; the words of claims, links, praise
    /// and how-to questions are what typos are read as.
    fn build_speller(&self) -> Speller {
        let mut known: WordSet = [
            &self.negators,
            &self.not_negating_after_no,
            &self.subjects,
            &self.clitics,
            &self.fillers,
            &self.sizes,
            &self.count_words,
            &self.not_claim_before,
            &self.claim_after,
            &self.si_verbs,
            &self.link_acknowledged,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .chain(words(lexicon::NOT_TYPOS))
        .collect();
        let mut targets = Vec::new();
        let mut stems = Vec::new();
        let mut target_stems = Vec::new();
        for cue in &self.cues {
            let target = matches!(
                cue.role,
                Role::Intent(Intent::Buy | Intent::Feedback) | Role::Link | Role::Procedure
            );
            for pat in &cue.pats {
                match pat {
                    Pat::Exact(word) => {
                        known.insert(word.clone());
                        if target {
                            targets.push(word.clone());
                        }
                    }
                    Pat::Prefix(stem) => {
                        stems.push(stem.clone());
                        if target {
                            target_stems.push(stem.clone());
                        }
                    }
                    _ => {}
                }
            }
        }
        targets.extend(self.fillers.iter().chain(&self.sizes).cloned());
        // The spelling most patterns use first: of "quiero" and "kiero", typos read as the
        // former.
        let mut uses: HashMap<String, usize> = HashMap::new();
        for word in targets {
            *uses.entry(word).or_default() += 1;
        }
        let mut targets: Vec<(String, usize)> = uses.into_iter().collect();
        targets.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let targets: Vec<String> = targets.into_iter().map(|(word, _)| word).collect();
        for list in [&mut stems, &mut target_stems] {
            list.sort_unstable();
            list.dedup();
        }
        Speller::new(
            known.iter().map(String::as_str),
            stems.iter().map(String::as_str),
            targets.iter().map(String::as_str),
            target_stems.iter().map(String::as_str),
            lexicon::RUN_ON_HEADS,
            lexicon::RUN_ON_TAILS,
        )
    }

    /// Cues left to right; at each position the longest (then heaviest) cue whose guard
    /// holds wins and consumes its tokens.
    pub(super) fn hits(&self, msg: &Message) -> Vec<Hit> {
        let tokens = &msg.tokens;
        let around = Around::new(self, msg);
        let mut hits = Vec::new();
        let mut at = 0;
        while at < tokens.len() {
            let candidates = self
                .by_first
                .get(&tokens[at].text)
                .into_iter()
                .flatten()
                .chain(&self.wildcard_first);
            let best = candidates
                .inspect(|_| super::work::step())
                .filter(|&&cue| self.matches(cue, tokens, at))
                .map(|&cue| Hit {
                    cue,
                    start: at,
                    end: at + self.cues[cue].pats.len(),
                })
                .filter(|hit| self.guard_holds(hit, msg, &around))
                .max_by(|a, b| {
                    (a.end - a.start)
                        .cmp(&(b.end - b.start))
                        .then(self.cues[a.cue].weight.total_cmp(&self.cues[b.cue].weight))
                });
            match best {
                Some(hit) => {
                    hits.push(hit);
                    at = hit.end;
                }
                None => at += 1,
            }
        }
        hits
    }

    fn matches(&self, cue: usize, tokens: &[Token], at: usize) -> bool {
        let pats = &self.cues[cue].pats;
        let Some(window) = tokens.get(at..at + pats.len()) else {
            return false;
        };
        let clause = tokens[at].clause;
        pats.iter()
            .zip(window)
            .all(|(pat, token)| token.clause == clause && self.pat_matches(pat, token))
    }

    fn pat_matches(&self, pat: &Pat, token: &Token) -> bool {
        match pat {
            Pat::Exact(word) => token.text == *word,
            Pat::Prefix(prefix) => token.kind == Kind::Word && token.text.starts_with(prefix),
            Pat::Count => self.is_count(token),
            Pat::Size => token.kind == Kind::Word && self.sizes.contains(&token.text),
        }
    }

    pub(super) fn is_count(&self, token: &Token) -> bool {
        token.kind == Kind::Number || self.count_words.contains(&token.text)
    }

    fn guard_holds(&self, hit: &Hit, msg: &Message, around: &Around) -> bool {
        let tokens = &msg.tokens;
        let clause = tokens[hit.start].clause;
        let opens_clause = around.prev_word[hit.start].is_none();
        let after = tokens[hit.end..].iter().take_while(|t| t.clause == clause);
        match self.cues[hit.cue].guard {
            Guard::Any => true,
            // "sold?" and "mine?" ask; they do not claim.
            Guard::ClauseStart => !msg.is_asked(clause) && opens_clause,
            Guard::Claim if msg.is_asked(clause) => false,
            Guard::Claim => {
                let prev_ok = around.prev_word[hit.start]
                    .is_none_or(|i| !self.not_claim_before.contains(&tokens[i].text));
                let next_ok = around.next_word[hit.end - 1].is_none_or(|i| {
                    let t = &tokens[i];
                    self.claim_after.contains(&t.text) || self.is_filler(t)
                });
                prev_ok && next_ok
            }
            Guard::Alone => {
                let own = &self.cues[hit.cue].pats;
                around.other_words.as_ref().is_some_and(|words| {
                    words
                        .iter()
                        .all(|&i| own.iter().any(|pat| self.pat_matches(pat, &tokens[i])))
                })
            }
            Guard::ConditionalSi => after.take(3).any(|t| self.si_verbs.contains(&t.text)),
            Guard::Asked => msg.is_asked(clause),
            Guard::Interrogative => msg.is_asked(clause) || opens_clause,
            Guard::Stated => !msg.is_asked(clause),
        }
    }

    /// A filler, a count or a size: words a lone claim may carry.
    pub(super) fn is_filler(&self, token: &Token) -> bool {
        self.fillers.contains(&token.text)
            || self.sizes.contains(&token.text)
            || self.is_count(token)
    }
}

/// What the guards look up around a token, computed once per message so that matching
/// stays linear in its length.
struct Around {
    /// The nearest word or count before each token in its clause.
    prev_word: Vec<Option<usize>>,
    /// The nearest word or count after each token in its clause.
    next_word: Vec<Option<usize>>,
    /// One token of each distinct word that is not a filler, when there are at most
    /// [`Around::FEW`] (a lone claim carries nothing else); `None` when there are more.
    other_words: Option<Vec<usize>>,
}

impl Around {
    const FEW: usize = 4;

    fn new(lexicon: &Lexicon, msg: &Message) -> Around {
        let tokens = &msg.tokens;
        let mut prev_word = Vec::with_capacity(tokens.len());
        let mut last: Option<usize> = None;
        for (i, t) in tokens.iter().enumerate() {
            prev_word.push(last.filter(|&j| tokens[j].clause == t.clause));
            if t.is_wordlike() {
                last = Some(i);
            }
        }
        let mut next_word = vec![None; tokens.len()];
        let mut next: Option<usize> = None;
        for (i, t) in tokens.iter().enumerate().rev() {
            next_word[i] = next.filter(|&j| tokens[j].clause == t.clause);
            if t.is_wordlike() {
                next = Some(i);
            }
        }
        let mut other_words = Some(Vec::new());
        for (i, t) in tokens.iter().enumerate() {
            let Some(words) = other_words.as_mut() else {
                break;
            };
            if t.is_wordlike()
                && !lexicon.is_filler(t)
                && !words.iter().any(|&j: &usize| tokens[j].text == t.text)
            {
                if words.len() == Self::FEW {
                    other_words = None;
                } else {
                    words.push(i);
                }
            }
        }
        Around {
            prev_word,
            next_word,
            other_words,
        }
    }
}

/// Words normalized like messages.
fn words(list: &[&str]) -> WordSet {
    list.iter()
        .flat_map(|w| normalize::tokenize(w).tokens)
        .map(|t| t.text)
        .collect()
}

/// A pattern's words as matchers.
pub(super) fn parse(pattern: &str) -> Vec<Pat> {
    pattern
        .split_whitespace()
        .flat_map(|piece| match piece {
            "<num>" => vec![Pat::Count],
            "<size>" => vec![Pat::Size],
            _ => {
                let (text, prefix) = match piece.strip_suffix('*') {
                    Some(stem) => (stem, true),
                    None => (piece, false),
                };
                normalize::tokenize(text)
                    .tokens
                    .into_iter()
                    .map(|t| match prefix {
                        true => Pat::Prefix(t.text),
                        false => Pat::Exact(t.text),
                    })
                    .collect()
            }
        })
        .collect()
}
