//! A buyer's message text as the pipeline reads and stores it (issue #11): at most
//! `MESSAGE_MAX_CHARS` characters, and nothing Postgres refuses to store.
//!
//! The inbox keeps the delivery's body byte-exact; this is the text taken out of it, the
//! one the classifier and the claim reader look at and `messages.text` holds, so a stored
//! message says exactly what was read (and a row is bounded however long the comment).

use std::borrow::Cow;

/// `MESSAGE_MAX_CHARS`'s default (`config::EdgeSettings::message_max_chars`), for a
/// command that classifies without the full settings.
pub const DEFAULT_MAX_CHARS: usize = 2000;

/// What a NUL becomes: U+FFFD REPLACEMENT CHARACTER. Replaced rather than stripped, so
/// the text keeps its length in characters and a mark where something was, and two
/// handles that differ only by a NUL (`ana` and `an\0a`) stay two handles.
pub const NUL_REPLACEMENT: char = '\u{FFFD}';

/// `text` as Postgres stores it in TEXT and JSONB: every NUL (refused with SQLSTATE 22021
/// `character_not_in_repertoire` in TEXT and 22P05 `untranslatable_character` as `\u0000`
/// in JSONB) made [`NUL_REPLACEMENT`]. A Rust string is valid UTF-8, so NUL is the only
/// character either type refuses. Borrowed when there is none.
pub fn storable(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', &NUL_REPLACEMENT.to_string()))
    } else {
        Cow::Borrowed(text)
    }
}

/// The first `max_chars` characters of `text` (all of it when shorter), cut at a
/// character boundary.
pub fn head(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// A message's text capped at `max_chars` characters and made [`storable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText {
    text: String,
    cut: bool,
}

impl MessageText {
    /// The first `max_chars` characters of `raw`, NULs replaced.
    pub fn new(raw: &str, max_chars: usize) -> MessageText {
        let kept = head(raw, max_chars);
        MessageText {
            text: storable(kept).into_owned(),
            cut: kept.len() < raw.len(),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when the message was longer than the cap and this is its head.
    pub fn was_cut(&self) -> bool {
        self.cut
    }
}

impl AsRef<str> for MessageText {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_short_message_is_kept_whole() {
        let text = MessageText::new("mine M 😍", 2000);
        assert_eq!(text.as_str(), "mine M 😍");
        assert!(!text.was_cut());
    }

    #[test]
    fn a_long_message_is_cut_at_a_character_not_a_byte() {
        let text = MessageText::new("ñañaña😍", 4);
        assert_eq!(text.as_str(), "ñaña");
        assert!(text.was_cut());
        assert_eq!(MessageText::new("😍😍", 1).as_str(), "😍");
    }

    #[test]
    fn a_nul_becomes_the_replacement_character() {
        let text = MessageText::new("mi\0ne\0", 2000);
        assert_eq!(text.as_str(), "mi\u{FFFD}ne\u{FFFD}");
        assert!(matches!(storable("no nul"), Cow::Borrowed("no nul")));
        assert_ne!(storable("an\0a"), storable("ana"));
    }

    #[test]
    fn the_default_cap_is_the_settings_default() {
        let settings = crate::config::Settings::from_lookup(|k| {
            (k == "DATABASE_URL").then(|| "postgres://u:pw@localhost/db".to_owned())
        })
        .expect("valid settings");
        assert_eq!(settings.edge.message_max_chars, DEFAULT_MAX_CHARS);
    }

    proptest! {
        #[test]
        fn the_text_is_the_first_characters_with_no_nul(
            raw in "(\\PC|\u{0}){0,300}",
            max in 0usize..200,
        ) {
            let text = MessageText::new(&raw, max);
            let expected: String = raw
                .chars()
                .take(max)
                .map(|c| if c == '\0' { NUL_REPLACEMENT } else { c })
                .collect();
            prop_assert_eq!(text.as_str(), expected.as_str());
            prop_assert!(!text.as_str().contains('\0'));
            prop_assert_eq!(text.was_cut(), raw.chars().count() > max);
        }
    }
}
