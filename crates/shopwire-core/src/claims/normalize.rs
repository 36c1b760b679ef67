//! Folding and tokenizing live-chat text: case and accents folded, emoji and punctuation
//! dropped, and word comparisons that forgive repeated letters ("mineeee", "blackkk"),
//! swapped letters ("meduim") and, for title words, one typo.

/// Characters that join two parts of one code (`JKT-1`, `HOT_1`, `5:30`, `1/2`).
const JOINERS: [char; 5] = ['-', '_', '/', ':', '.'];

/// `text` lower-cased with Latin accents stripped (`Mía` → `mia`, `PEQUEÑA` → `pequena`),
/// typographic apostrophes made `'`, full-width forms made ASCII, and `×` (or `*` before a
/// digit) made `x`.
pub(crate) fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let c = match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            '*' if chars.peek().is_some_and(char::is_ascii_digit) => 'x',
            _ => c,
        };
        for lower in c.to_lowercase() {
            match fold_char(lower) {
                Folded::One(f) => out.push(f),
                Folded::Two(a, b) => {
                    out.push(a);
                    out.push(b);
                }
                Folded::Drop => {}
            }
        }
    }
    out
}

enum Folded {
    One(char),
    Two(char, char),
    Drop,
}

fn fold_char(c: char) -> Folded {
    let base = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'ď' | 'đ' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
        'ğ' => 'g',
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => 'i',
        'ł' => 'l',
        'ñ' | 'ń' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
        'ř' => 'r',
        'ś' | 'š' | 'ş' => 's',
        'ť' => 't',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => 'u',
        'ý' | 'ÿ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        'ß' => return Folded::Two('s', 's'),
        '’' | '‘' | 'ʼ' | '`' | '´' => '\'',
        '×' | '✕' | '✖' => 'x',
        '\u{300}'..='\u{36f}' => return Folded::Drop,
        _ => c,
    };
    Folded::One(base)
}

/// One word or number of the folded text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    /// The word as written (folded), inner apostrophes kept: `i'm`, `levi's`, `8.5`.
    pub text: String,
    /// `text` without apostrophes: `im`, `levis`.
    pub bare: String,
    /// Byte range in the folded text.
    pub start: usize,
    pub end: usize,
    /// The character right before and right after, if any.
    pub before: Option<char>,
    pub after: Option<char>,
    /// Joined to a neighbouring word by `-`, `_`, `/`, `:` or `.` (`JKT-10`, `5:30`): part
    /// of a code, a time or a fraction, never a quantity on its own.
    pub joined: bool,
}

impl Token {
    /// All ASCII digits.
    pub fn is_number(&self) -> bool {
        !self.text.is_empty() && self.text.bytes().all(|b| b.is_ascii_digit())
    }

    /// Digits, a point and digits (`8.5`; `9,5` is written `9.5`).
    pub fn is_decimal(&self) -> bool {
        self.text.contains('.')
    }
}

/// The words and numbers of folded text, in order. A word is a run of letters and digits,
/// with apostrophes inside it (`i'm`); `8.5` and `9,5` are one decimal token.
pub(crate) fn tokens(folded: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = folded.char_indices().collect();
    let char_at = |i: usize| chars.get(i).map(|&(_, c)| c);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].1.is_alphanumeric() {
            i += 1;
            continue;
        }
        let first = i;
        let mut text = String::new();
        let mut decimal = false;
        while let Some(c) = char_at(i) {
            let next = char_at(i + 1);
            if c.is_alphanumeric() || (c == '\'' && next.is_some_and(char::is_alphanumeric)) {
                text.push(c);
            } else if matches!(c, '.' | ',')
                && !decimal
                && next.is_some_and(|n| n.is_ascii_digit())
                && !text.is_empty()
                && text.bytes().all(|b| b.is_ascii_digit())
                && !(c == ',' && char_at(i + 3).is_some_and(|n| n.is_ascii_digit()))
            {
                decimal = true;
                text.push('.');
            } else {
                break;
            }
            i += 1;
        }
        let before = first.checked_sub(1).and_then(char_at);
        let after = char_at(i);
        let joined_before = before.is_some_and(|c| JOINERS.contains(&c))
            && first
                .checked_sub(2)
                .and_then(char_at)
                .is_some_and(char::is_alphanumeric);
        let joined_after = after.is_some_and(|c| JOINERS.contains(&c))
            && char_at(i + 1).is_some_and(char::is_alphanumeric);
        let start = chars[first].0;
        let end = chars.get(i).map_or(folded.len(), |&(at, _)| at);
        out.push(Token {
            bare: text.replace('\'', ""),
            text,
            start,
            end,
            before,
            after,
            joined: joined_before || joined_after,
        });
    }
    out
}

/// `word` with every run of one letter made a single letter: `mineeee` → `mine`.
pub(crate) fn squeeze(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut last = None;
    for c in word.chars() {
        if Some(c) != last {
            out.push(c);
        }
        last = Some(c);
    }
    out
}

/// A text word stands for a lexicon word: the same, the same but for repeated letters
/// (`blackkk`; only for words whose squeezed form has 3+ letters, so `xxl` never becomes
/// `xl`), or, for 4+ letters, two neighbouring letters swapped (`meduim`).
pub(crate) fn same_word(word: &str, lexeme: &str) -> bool {
    if word == lexeme {
        return true;
    }
    let squeezed = squeeze(lexeme);
    (squeezed.chars().count() >= 3 && squeeze(word) == squeezed)
        || (lexeme.chars().count() >= 4 && swapped(word, lexeme))
}

/// A text word stands for a title word: [`same_word`], a plural (`tees`, `sneaker`), or
/// for words of 5+ letters one letter added, dropped or changed (`jaket`, `snekers`).
pub(crate) fn close_word(word: &str, title_word: &str) -> bool {
    if same_word(word, title_word) {
        return true;
    }
    let plural = |a: &str, b: &str| {
        a.strip_prefix(b)
            .is_some_and(|rest| rest == "s" || rest == "es")
    };
    if plural(word, title_word) || plural(title_word, word) {
        return true;
    }
    word.chars().count() >= 5 && title_word.chars().count() >= 5 && one_edit(word, title_word)
}

/// `a` is `b` with two neighbouring letters swapped.
fn swapped(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len() != b.len() {
        return false;
    }
    let diffs: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    diffs.len() == 2
        && diffs[1] == diffs[0] + 1
        && a[diffs[0]] == b[diffs[1]]
        && a[diffs[1]] == b[diffs[0]]
}

/// `a` and `b` differ by one inserted, deleted, changed or swapped letter.
fn one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short
        .iter()
        .zip(long.iter())
        .take_while(|(x, y)| x == y)
        .count();
    if short.len() == long.len() {
        if prefix == short.len() {
            return true;
        }
        // One change, or a swap of two neighbours.
        short[prefix + 1..] == long[prefix + 1..]
            || (prefix + 1 < short.len()
                && short[prefix] == long[prefix + 1]
                && short[prefix + 1] == long[prefix]
                && short[prefix + 2..] == long[prefix + 2..])
    } else {
        short[prefix..] == long[prefix + 1..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        tokens(&fold(text)).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn accents_case_and_emoji_fold_away() {
        assert_eq!(words("¡MÍA! 😍 pequeña"), ["mia", "pequena"]);
        assert_eq!(fold("Café"), "cafe");
        assert_eq!(fold("Cafe\u{301}"), "cafe");
    }

    #[test]
    fn apostrophes_stay_inside_words_and_decimals_stay_whole() {
        assert_eq!(
            words("I’m a 8.5, talla 9,5!"),
            ["i'm", "a", "8.5", "talla", "9.5"]
        );
        assert_eq!(words("1,000 pesos"), ["1", "000", "pesos"]);
    }

    #[test]
    fn a_number_joined_to_a_code_is_marked_joined() {
        let t = tokens(&fold("JKT-10 at 5:30, size 9."));
        let joined: Vec<bool> = t.iter().map(|t| t.joined).collect();
        assert_eq!(joined, [true, true, false, true, true, false, false]);
    }

    #[test]
    fn the_multiplication_sign_and_a_star_before_a_digit_are_x() {
        assert_eq!(words("A3 ×2 *3 *M*"), ["a3", "x2", "x3", "m"]);
    }

    #[test]
    fn repeated_and_swapped_letters_still_name_the_word() {
        assert!(same_word("blackkk", "black"));
        assert!(same_word("meduim", "medium"));
        assert!(!same_word("xl", "xxl"));
        assert!(!same_word("back", "black"));
    }

    #[test]
    fn one_typo_in_a_long_title_word_is_forgiven() {
        assert!(close_word("jaket", "jacket"));
        assert!(close_word("snekers", "sneakers"));
        assert!(close_word("tees", "tee"));
        assert!(close_word("levis", "levis"));
        assert!(!close_word("hat", "cat"));
        assert!(!close_word("jackets", "packet"));
    }
}
