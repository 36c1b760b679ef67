//! The compiled lexicon and the matcher: cue patterns indexed by first word, matched
//! longest-first over a message's tokens, each cue's guard checked in context.

use std::collections::{HashMap, HashSet};

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
                    pats,
                    role: group.role,
                    weight: group.weight,
                    guard: group.guard,
                });
            }
        }
        lexicon
    }

    /// Cues left to right; at each position the longest (then heaviest) cue whose guard
    /// holds wins and consumes its tokens.
    pub(super) fn hits(&self, msg: &Message) -> Vec<Hit> {
        let tokens = &msg.tokens;
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
                .filter(|&&cue| self.matches(cue, tokens, at))
                .map(|&cue| Hit {
                    cue,
                    start: at,
                    end: at + self.cues[cue].pats.len(),
                })
                .filter(|hit| self.guard_holds(hit, msg))
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

    fn guard_holds(&self, hit: &Hit, msg: &Message) -> bool {
        let tokens = &msg.tokens;
        let clause = tokens[hit.start].clause;
        let mut before = tokens[..hit.start]
            .iter()
            .rev()
            .take_while(|t| t.clause == clause);
        let mut after = tokens[hit.end..].iter().take_while(|t| t.clause == clause);
        match self.cues[hit.cue].guard {
            Guard::Any => true,
            // "sold?" and "mine?" ask; they do not claim.
            Guard::ClauseStart => {
                !msg.is_asked(clause) && before.filter(|t| t.is_wordlike()).count() == 0
            }
            Guard::Claim if msg.is_asked(clause) => false,
            Guard::Claim => {
                let prev_ok = before
                    .find(|t| t.is_wordlike())
                    .is_none_or(|t| !self.not_claim_before.contains(&t.text));
                let next_ok = after
                    .find(|t| t.is_wordlike())
                    .is_none_or(|t| self.claim_after.contains(&t.text) || self.is_filler(t));
                prev_ok && next_ok
            }
            Guard::Alone => {
                let own = &self.cues[hit.cue].pats;
                tokens
                    .iter()
                    .filter(|t| t.is_wordlike())
                    .all(|t| self.is_filler(t) || own.iter().any(|pat| self.pat_matches(pat, t)))
            }
            Guard::ConditionalSi => after.take(3).any(|t| self.si_verbs.contains(&t.text)),
            Guard::Asked => msg.is_asked(clause),
            Guard::Interrogative => {
                msg.is_asked(clause) || before.filter(|t| t.is_wordlike()).count() == 0
            }
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
