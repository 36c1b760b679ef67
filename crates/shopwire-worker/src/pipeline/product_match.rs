//! Which product a buyer means: a SKU or product title named in the text, else the product
//! the streamer had pinned when the message was written.

use shopwire_core::db::messages::CatalogEntry;

/// Below this a match is not trusted (docs/contract.md §3).
pub const MIN_CONFIDENCE: f32 = 0.7;

/// Confidence given to the product on screen when the text names none.
pub const PINNED_CONFIDENCE: f32 = 0.9;

/// A product the text names, and how sure we are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    /// Product id.
    pub product_id: i64,
    /// Confidence in [0, 1].
    pub score: f32,
}

const STOPWORDS: &[&str] = &[
    "the", "and", "for", "with", "del", "las", "los", "con", "una", "por", "que",
];

/// The best product named in `text`: an exact SKU scores 1.0; a title scores the share of
/// its significant words (3+ letters, not stopwords) that appear in the text.
pub fn named_in(text: &str, catalog: &[CatalogEntry]) -> Option<Match> {
    let words: Vec<String> = tokens(text).collect();
    let lower = text.to_lowercase();
    let mut best: Option<Match> = None;
    for entry in catalog {
        let sku = entry.sku.to_lowercase();
        let score = if words.contains(&sku) || (sku.len() >= 4 && names_sku(&lower, &sku)) {
            1.0
        } else {
            title_score(&entry.title, &words)
        };
        if score > best.map_or(0.0, |b| b.score) {
            best = Some(Match {
                product_id: entry.id,
                score,
            });
        }
    }
    best.filter(|m| m.score >= MIN_CONFIDENCE)
}

/// `sku` appears in `text` as a whole code, not as part of a longer one: `JKT-1` is not
/// named by `JKT-10` or `XJKT-1` (a SKU may hold characters the tokenizer splits on, such
/// as `_` or `/`, so this looks at the raw text).
fn names_sku(text: &str, sku: &str) -> bool {
    let part_of_code = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '/' | '.');
    text.match_indices(sku).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + sku.len()..].chars().next();
        // A trailing '.' ends a sentence ("I want JKT-1."), not the code.
        let ends_code = |c: char| part_of_code(c) && c != '.';
        !before.is_some_and(part_of_code) && !after.is_some_and(ends_code)
    })
}

fn title_score(title: &str, words: &[String]) -> f32 {
    let significant: Vec<String> = tokens(title)
        .filter(|w| w.chars().count() >= 3 && !STOPWORDS.contains(&w.as_str()))
        .collect();
    if significant.is_empty() {
        return 0.0;
    }
    let hits = significant.iter().filter(|w| words.contains(w)).count();
    hits as f32 / significant.len() as f32
}

fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '\''))
        .map(|w| w.trim_matches(|c| c == '-' || c == '\'').to_lowercase())
        .filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Vec<CatalogEntry> {
        vec![
            CatalogEntry {
                id: 1,
                sku: "VNT-NIKE-WB-001".into(),
                title: "Vintage Nike Windbreaker".into(),
            },
            CatalogEntry {
                id: 2,
                sku: "CRH-DET-BLK-002".into(),
                title: "Carhartt Detroit Jacket - Black".into(),
            },
        ]
    }

    #[test]
    fn a_sku_in_the_text_is_a_certain_match() {
        let m = named_in("mine!! crh-det-blk-002 please", &catalog()).expect("sku named");
        assert_eq!(
            m,
            Match {
                product_id: 2,
                score: 1.0
            }
        );
    }

    #[test]
    fn a_sku_inside_a_longer_code_is_not_named() {
        let catalog = vec![
            CatalogEntry {
                id: 1,
                sku: "HOT_1".into(),
                title: "Hot item".into(),
            },
            CatalogEntry {
                id: 10,
                sku: "HOT_10".into(),
                title: "Another item".into(),
            },
        ];
        let m = named_in("mine! HOT_10", &catalog).expect("HOT_10 is named");
        assert_eq!(m.product_id, 10);
        assert_eq!(named_in("mine! XHOT_1", &catalog), None);
        let m = named_in("I want HOT_1.", &catalog).expect("a full stop ends the code");
        assert_eq!(m.product_id, 1);
        let jacket = vec![CatalogEntry {
            id: 7,
            sku: "JKT-1".into(),
            title: "Denim".into(),
        }];
        assert_eq!(named_in("mine JKT-10 please", &jacket), None);
    }

    #[test]
    fn a_full_title_matches_and_a_vague_word_does_not() {
        let m =
            named_in("I'll take the vintage nike windbreaker", &catalog()).expect("title named");
        assert_eq!(m.product_id, 1);
        assert!(named_in("I'll take the jacket!", &catalog()).is_none());
    }

    #[test]
    fn most_of_a_title_is_enough() {
        let m = named_in("quiero la carhartt detroit jacket", &catalog()).expect("3 of 4 words");
        assert_eq!(m.product_id, 2);
        assert!(m.score >= MIN_CONFIDENCE);
    }
}
