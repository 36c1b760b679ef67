//! The built-in classifier: cue phrases from the lexicon, matched longest-first over the
//! normalized tokens, weighed per intent, with context rules that keep claims honest:
//! negation ("don't want it", "no lo quiero"), conditionals ("I'd buy it if…", "si fuera
//! más barato"), objections after a claim ("I want it but it's too expensive"), and a claim
//! that is really about a refund or a price ("I want a refund", "quiero saber…").
//!
//! In a live sale, asking for the payment link ("link pls", "mándame el link") or how to
//! buy ("how do I buy this?", "cómo lo compro?") is a claim; a link complained of, turned
//! down, received or asked about ("the link doesn't work", "is the link safe?") is not.
//! Typos are read as the cue words they were meant to be first (`spelling`), and kept only
//! where a cue uses them. Every step is linear in the message's length.

mod matching;
mod spelling;

/// Steps of work on this thread: cue candidates tried, tokens and hits scanned for context,
/// spelling candidates weighed. Counted in tests only (a no-op otherwise), so a test can
/// show the work grows linearly with a message's length without timing anything.
#[cfg(test)]
mod work {
    use std::cell::Cell;

    thread_local! {
        static STEPS: Cell<u64> = const { Cell::new(0) };
    }

    pub(super) fn step() {
        STEPS.with(|steps| steps.set(steps.get() + 1));
    }

    /// The steps counted since the last call.
    pub(super) fn take() -> u64 {
        STEPS.with(|steps| steps.replace(0))
    }
}

#[cfg(not(test))]
mod work {
    #[inline(always)]
    pub(super) fn step() {}
}

use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use matching::{Hit, Lexicon, Pat};

use super::lexicon::Role;
use super::normalize::{self, Message, Token};
use super::{Classification, Intent};

/// Weight every message starts with for `other`: with no evidence, it is chatter.
const OTHER_PRIOR: f32 = 0.25;
/// Added to the two best totals when turning them into a confidence.
const SCORE_DAMPING: f32 = 0.4;
/// Intents in the order that wins a tie: never a purchase on a tie.
const TIE_ORDER: [Intent; 5] = [
    Intent::Complaint,
    Intent::Question,
    Intent::Feedback,
    Intent::Buy,
    Intent::Other,
];

/// The lexicon, compiled on first use.
static LEXICON: LazyLock<Lexicon> = LazyLock::new(Lexicon::build);

/// The built-in classifier: no network, no allocation beyond the message's own tokens,
/// deterministic.
#[derive(Clone, Copy)]
pub struct RuleClassifier {
    lexicon: &'static Lexicon,
}

impl RuleClassifier {
    /// The classifier over the built-in lexicon (compiled once per process).
    pub fn new() -> Self {
        Self { lexicon: &LEXICON }
    }

    /// Classify one message.
    pub fn classify(&self, text: &str) -> Classification {
        let (msg, hits) = self.read(text);
        let totals = self.lexicon.weigh(&msg, &hits);
        let (intent, score) = decide(&totals);
        Classification {
            intent,
            score,
            classifier: "rules",
        }
    }

    /// The message's tokens, typos read as the cue words they were meant to be, and the
    /// cues found in them.
    fn read(&self, text: &str) -> (Message, Vec<Hit>) {
        let mut msg = normalize::tokenize(text);
        let fixes = self.lexicon.speller.correct(&mut msg);
        let mut hits = self.lexicon.hits(&msg);
        if !fixes.is_empty() {
            // A typo fixed is kept only where a cue used it: "kinda" stays "kinda" unless a
            // cue needs "linda".
            let mut used = vec![false; msg.tokens.len()];
            for hit in &hits {
                used[hit.start..hit.end].fill(true);
            }
            let used_by_a_cue =
                |fix: &spelling::Fix| used[fix.at..fix.at + fix.len].contains(&true);
            if spelling::revert(&mut msg, fixes, used_by_a_cue) {
                hits = self.lexicon.hits(&msg);
            }
        }
        (msg, hits)
    }
}

impl Default for RuleClassifier {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RuleClassifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleClassifier")
            .field("cues", &self.lexicon.cues.len())
            .finish()
    }
}

impl Lexicon {
    /// Totals per intent (indexed like [`Intent::ALL`]).
    fn weigh(&self, msg: &Message, hits: &[Hit]) -> [f32; 5] {
        let mut totals = [0.0; 5];
        totals[slot(Intent::Other)] = OTHER_PRIOR;
        let has = |role: Role| {
            hits.iter()
                .inspect(|_| work::step())
                .any(|h| self.cues[h.cue].role == role)
        };
        let conditional = has(Role::Conditional) || has(Role::Hypothetical);
        let tentative = has(Role::Tentative);
        let mut seen = HashSet::new();
        let mut asked = false;
        let mut links = Vec::new();
        for hit in hits {
            work::step();
            let cue = &self.cues[hit.cue];
            // A cue repeated ("🔥🔥🔥", "mine mine") counts once.
            let first = seen.insert(hit.cue);
            match cue.role {
                // Only a cue's first occurrence counts, so only it is weighed in context
                // (which keeps a long message linear).
                Role::Intent(Intent::Buy) if first => {
                    if self.negated(hit, &msg.tokens) {
                        totals[slot(Intent::Other)] += 0.5 * cue.weight;
                    } else if !conditional && !self.withdrawn(hit, hits, &msg.tokens) {
                        totals[slot(Intent::Buy)] += cue.weight;
                    }
                }
                // "if it doesn't fit, can I return it?" supposes a problem; it has none.
                Role::Intent(Intent::Complaint)
                    if first && self.supposed(hit, hits, &msg.tokens) => {}
                Role::Intent(intent) if first => {
                    totals[slot(intent)] += cue.weight;
                    asked |= intent == Intent::Question;
                }
                Role::Procedure if first => {
                    totals[slot(Intent::Question)] += cue.weight;
                    asked = true;
                }
                Role::Hypothetical | Role::Objection if first => {
                    totals[slot(Intent::Feedback)] += cue.weight;
                }
                Role::Link if first => links.push(hit),
                _ => {}
            }
        }
        // Asked for, a link is a claim; it counts once however often it is named.
        let mut link_asked = false;
        for hit in links {
            let weight = self.cues[hit.cue].weight;
            if self.link_negated(hit, &msg.tokens) {
                totals[slot(Intent::Other)] += 0.5 * weight;
                continue;
            }
            // Received, complained of or turned down, it adds nothing of its own.
            if self.link_acknowledged(hit, &msg.tokens)
                || totals[slot(Intent::Complaint)] > 0.0
                || self.link_declined(hit, hits, &msg.tokens)
            {
                continue;
            }
            if conditional || self.link_asked_about(hit, hits, &msg.tokens) {
                totals[slot(Intent::Question)] += 0.6 * weight;
                asked = true;
            } else if !link_asked {
                totals[slot(Intent::Buy)] += weight;
                link_asked = true;
            }
        }
        if msg.question {
            totals[slot(Intent::Question)] += if asked { 0.2 } else { 0.5 };
        }
        let counted = msg
            .tokens
            .iter()
            .any(|t| self.is_count(t) || self.sizes.contains(&t.text));
        let words_are_fillers = msg
            .tokens
            .iter()
            .filter(|t| t.is_wordlike())
            .all(|t| self.is_filler(t));
        if counted && words_are_fillers {
            // "2 please", "M", "x2 en negro": a claim in a live, or "M?", a question.
            if msg.question {
                totals[slot(Intent::Question)] += 0.8;
            } else if !conditional {
                totals[slot(Intent::Buy)] += 1.2;
            }
        } else if counted && totals[slot(Intent::Buy)] > 0.0 {
            totals[slot(Intent::Buy)] += 0.3;
        }
        if tentative {
            // "maybe I'll take one" stays a purchase, below any sensible threshold.
            totals[slot(Intent::Buy)] *= 0.25;
        }
        totals
    }

    /// "don't want it", "no lo quiero", "not mine", "no me lo apartes": a negator up to
    /// two words before, not counting Spanish clitic pronouns.
    fn negated(&self, hit: &Hit, tokens: &[Token]) -> bool {
        if let Some(Pat::Exact(first)) = self.cues[hit.cue].pats.first()
            && self.subjects.contains(first)
        {
            return false;
        }
        let clause = tokens[hit.start].clause;
        tokens[..hit.start]
            .iter()
            .enumerate()
            .rev()
            .take_while(|(_, t)| t.clause == clause)
            .inspect(|_| work::step())
            .filter(|(_, t)| !self.clitics.contains(&t.text))
            .take(2)
            .any(|(j, t)| {
                self.negators.contains(&t.text)
                    && !(t.text == "no"
                        && tokens
                            .get(j + 1)
                            .is_some_and(|n| self.not_negating_after_no.contains(&n.text)))
            })
    }

    /// After "if" or conditional "si" in the same clause, or what a how-to question asks
    /// about ("how do I return it?").
    fn supposed(&self, hit: &Hit, hits: &[Hit], tokens: &[Token]) -> bool {
        let clause = tokens[hit.start].clause;
        hits.iter().inspect(|_| work::step()).any(|other| {
            matches!(
                self.cues[other.cue].role,
                Role::Conditional | Role::Procedure
            ) && other.start < hit.start
                && tokens[other.start].clause == clause
        })
    }

    /// A negator anywhere before the link in its clause: "don't send me the link",
    /// "no me mandes el link", "no link for me".
    fn link_negated(&self, hit: &Hit, tokens: &[Token]) -> bool {
        let clause = tokens[hit.start].clause;
        let before = &tokens[..hit.start];
        before
            .iter()
            .enumerate()
            .rev()
            .take_while(|(_, t)| t.clause == clause)
            .inspect(|_| work::step())
            .any(|(j, t)| {
                self.negators.contains(&t.text)
                    && !(t.text == "no"
                        && before
                            .get(j + 1)
                            .is_some_and(|n| self.not_negating_after_no.contains(&n.text)))
            })
    }

    /// A question in the link's clause that does not ask for it: "is the link safe?",
    /// "cuánto dura el link?", not "where's the link?".
    fn link_asked_about(&self, hit: &Hit, hits: &[Hit], tokens: &[Token]) -> bool {
        let clause = tokens[hit.start].clause;
        hits.iter().inspect(|_| work::step()).any(|other| {
            let cue = &self.cues[other.cue];
            matches!(cue.role, Role::Intent(Intent::Question) | Role::Procedure)
                && tokens[other.start].clause == clause
                && !self.link_asks.contains(cue.text)
        })
    }

    /// The link's clause turns it down or says there is nothing to buy: "the link says
    /// sold out", "no thanks, I have the link".
    fn link_declined(&self, hit: &Hit, hits: &[Hit], tokens: &[Token]) -> bool {
        let clause = tokens[hit.start].clause;
        hits.iter().inspect(|_| work::step()).any(|other| {
            let cue = &self.cues[other.cue];
            cue.role == Role::Intent(Intent::Other)
                && cue.weight >= 1.2
                && tokens[other.start].clause == clause
        })
    }

    /// "got the link", "thanks for the link", "ya me llegó el link".
    fn link_acknowledged(&self, hit: &Hit, tokens: &[Token]) -> bool {
        let clause = tokens[hit.start].clause;
        tokens[..hit.start]
            .iter()
            .rev()
            .take_while(|t| t.clause == clause)
            .inspect(|_| work::step())
            .any(|t| self.link_acknowledged.contains(&t.text))
    }

    /// A claim taken back by an objection after it ("…but it's too expensive"), whose
    /// object is a refund, a price, a link ("I want a refund", "I need the link"), or
    /// that is what a how-to question asks about ("how do I claim one?").
    fn withdrawn(&self, hit: &Hit, hits: &[Hit], tokens: &[Token]) -> bool {
        let clause = tokens[hit.start].clause;
        hits.iter().inspect(|_| work::step()).any(|other| {
            let cue = &self.cues[other.cue];
            let how_to = cue.role == Role::Procedure
                && other.end <= hit.start
                && tokens[other.start].clause == clause;
            if how_to {
                return true;
            }
            let objection = cue.role == Role::Objection && other.start >= hit.end;
            let about = matches!(cue.role, Role::Intent(Intent::Question | Intent::Complaint))
                && cue.weight >= 1.0
                && (hit.end..hit.end + 3).contains(&other.start)
                && tokens[other.start].clause == clause;
            objection || about
        })
    }
}

/// Pick the best total (ties go by [`TIE_ORDER`]) and its confidence: the share it holds
/// against the runner-up, damped so thin evidence scores lower.
fn decide(totals: &[f32; 5]) -> (Intent, f32) {
    let mut ranked = TIE_ORDER;
    // A stable sort keeps the tie order among equal totals.
    ranked.sort_by(|a, b| totals[slot(*b)].total_cmp(&totals[slot(*a)]));
    let (best, runner_up) = (totals[slot(ranked[0])], totals[slot(ranked[1])]);
    if ranked[0] == Intent::Other && best == OTHER_PRIOR {
        // No evidence at all: chatter, moderately sure.
        return (Intent::Other, 0.5);
    }
    let score = best / (best + runner_up + SCORE_DAMPING);
    (ranked[0], (score.clamp(0.0, 1.0) * 100.0).round() / 100.0)
}

fn slot(intent: Intent) -> usize {
    intent as usize
}

#[cfg(test)]
mod tests;
