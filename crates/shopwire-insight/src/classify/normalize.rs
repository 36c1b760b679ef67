//! Text → tokens the rules can match: lowercase, accents stripped, apostrophes dropped
//! ("I'll" → "ill"), runs of a letter squeezed to one ("miiiine" → "mine", "I'll" → "il"),
//! emoji as tokens of their own, clauses split at punctuation.
//!
//! Cue patterns go through the same steps, so they are written as people type them.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Letters (maybe with digits).
    Word,
    /// A count: `2`, `x2`, `2x` (text holds the digits).
    Number,
    /// One emoji or symbol, without variation selectors, skin tones or joiners.
    Emoji,
    /// An `@someone` (text is `@`; the name is dropped).
    Mention,
}

/// One normalized token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    /// Normalized text.
    pub text: String,
    /// What it is.
    pub kind: Kind,
    /// Which clause it is in; punctuation starts a new one.
    pub clause: u32,
}

impl Token {
    /// True for words and counts, the tokens that carry language.
    pub fn is_wordlike(&self) -> bool {
        matches!(self.kind, Kind::Word | Kind::Number)
    }
}

/// A message, tokenized.
#[derive(Debug, Default)]
pub(super) struct Message {
    /// Tokens in order.
    pub tokens: Vec<Token>,
    /// True when the text has `?` or `¿`.
    pub question: bool,
    /// Clauses asked as questions (ended by `?` or opened by `¿`).
    pub asked: Vec<u32>,
}

impl Message {
    /// True when `clause` is asked as a question.
    pub fn is_asked(&self, clause: u32) -> bool {
        // Clauses are pushed in order, so the list is sorted.
        self.asked.binary_search(&clause).is_ok()
    }
}

/// Tokenize `text`.
pub(super) fn tokenize(text: &str) -> Message {
    let mut msg = Message::default();
    let mut clause = 0;
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
            continue;
        }
        if matches!(c, '\'' | '’' | '‘' | '`' | 'ʼ') && !word.is_empty() {
            continue;
        }
        flush(&mut msg, &mut word, clause);
        if c == '@' {
            while chars.next_if(|c| !c.is_whitespace()).is_some() {}
            push(&mut msg, "@".to_owned(), Kind::Mention, clause);
            continue;
        }
        match c {
            '?' | '¿' => {
                msg.question = true;
                // "¿" opens the clause it asks; "?" closes it.
                if c == '¿' {
                    clause += 1;
                }
                if msg.asked.last() != Some(&clause) {
                    msg.asked.push(clause);
                }
                if c == '?' {
                    clause += 1;
                }
            }
            '.' | ',' | ';' | ':' | '!' | '¡' | '\n' | '…' | '(' | ')' | '"' | '“' | '”' => {
                clause += 1;
            }
            '<' if chars.peek() == Some(&'3') => {
                chars.next();
                push(&mut msg, "❤".to_owned(), Kind::Emoji, clause);
            }
            _ if c.is_whitespace() || c.is_ascii() || is_modifier(c) => {}
            _ => push(&mut msg, c.to_string(), Kind::Emoji, clause),
        }
    }
    flush(&mut msg, &mut word, clause);
    msg
}

fn flush(msg: &mut Message, word: &mut String, clause: u32) {
    if word.is_empty() {
        return;
    }
    // "sí" is yes; without its accent it would read as "si" (if).
    let text = if word == "sí" {
        "yes".to_owned()
    } else {
        squeeze(word.chars().map(fold_accent))
    };
    word.clear();
    match count(&text) {
        Some(digits) => push(msg, digits.to_owned(), Kind::Number, clause),
        None => push(msg, text, Kind::Word, clause),
    }
}

fn push(msg: &mut Message, text: String, kind: Kind, clause: u32) {
    msg.tokens.push(Token { text, kind, clause });
}

/// The digits of `2`, `x2` or `2x`.
fn count(text: &str) -> Option<&str> {
    let digits = text
        .strip_prefix('x')
        .or_else(|| text.strip_suffix('x'))
        .unwrap_or(text);
    (!digits.is_empty() && digits.len() <= 3 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(digits)
}

/// Letters repeated for emphasis collapse to one; digits stay.
fn squeeze(chars: impl Iterator<Item = char>) -> String {
    let mut out = String::new();
    let mut last = None;
    for c in chars {
        if c.is_alphabetic() && last == Some(c) {
            continue;
        }
        out.push(c);
        last = Some(c);
    }
    out
}

fn fold_accent(c: char) -> char {
    match c {
        'á' | 'à' | 'ä' | 'â' | 'ã' | 'å' => 'a',
        'é' | 'è' | 'ë' | 'ê' => 'e',
        'í' | 'ì' | 'ï' | 'î' => 'i',
        'ó' | 'ò' | 'ö' | 'ô' | 'õ' => 'o',
        'ú' | 'ù' | 'ü' | 'û' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        other => other,
    }
}

/// Emoji presentation and composition marks, gender signs and skin tones: the base emoji
/// alone carries the meaning.
fn is_modifier(c: char) -> bool {
    matches!(
        c,
        '\u{FE0E}' | '\u{FE0F}' | '\u{200D}' | '\u{20E3}' | '♀' | '♂'
    ) || ('\u{1F3FB}'..='\u{1F3FF}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<String> {
        tokenize(text).tokens.into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn case_accents_apostrophes_and_repeats_are_normalized() {
        assert_eq!(texts("MIIIINE!!"), ["mine"]);
        assert_eq!(texts("I'll take it"), ["il", "take", "it"]);
        assert_eq!(texts("Apártamelo"), ["apartamelo"]);
        assert_eq!(texts("¿Cuánto cuesta?"), ["cuanto", "cuesta"]);
        assert_eq!(texts("sí lo quiero"), ["yes", "lo", "quiero"]);
    }

    #[test]
    fn emoji_lose_their_modifiers_and_mentions_their_names() {
        assert_eq!(texts("🙋🏽‍♀️ me"), ["🙋", "me"]);
        assert_eq!(texts("❤️❤️ <3"), ["❤", "❤", "❤"]);
        let msg = tokenize("@maria_22 look");
        assert_eq!(msg.tokens.len(), 2);
        assert_eq!(msg.tokens[0].kind, Kind::Mention);
    }

    #[test]
    fn counts_are_numbers_and_punctuation_splits_clauses() {
        let msg = tokenize("x2, 3x? 10");
        let kinds: Vec<_> = msg
            .tokens
            .iter()
            .map(|t| (t.text.as_str(), t.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                ("2", Kind::Number),
                ("3", Kind::Number),
                ("10", Kind::Number)
            ]
        );
        assert!(msg.question);
        assert_eq!(msg.tokens[0].clause, 0);
        assert!(msg.tokens[1].clause > 0);
        assert!(msg.is_asked(msg.tokens[1].clause));
        assert!(!msg.is_asked(msg.tokens[0].clause));
    }
}
