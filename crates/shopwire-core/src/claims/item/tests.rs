//! SKU and title matching: whole codes only, title-word shares, ties.

use super::*;

fn plain(id: i64, sku: &str, title: &str) -> CatalogItem {
    CatalogItem {
        product_id: id,
        sku: sku.into(),
        product_code: sku.into(),
        title: title.into(),
        options: Default::default(),
    }
}

fn catalog() -> Vec<CatalogItem> {
    vec![
        plain(1, "VNT-NIKE-WB-001", "Vintage Nike Windbreaker"),
        plain(2, "CRH-DET-BLK-002", "Carhartt Detroit Jacket - Black"),
    ]
}

#[test]
fn a_sku_in_the_text_is_a_certain_match() {
    assert_eq!(
        named_in("mine!! crh-det-blk-002 please", &catalog()),
        Some((1, 1.0))
    );
}

#[test]
fn a_sku_inside_a_longer_code_is_not_named() {
    let hot = vec![
        plain(1, "HOT_1", "Hot item"),
        plain(10, "HOT_10", "Another item"),
    ];
    assert_eq!(named_in("mine! HOT_10", &hot), Some((1, 1.0)));
    assert_eq!(named_in("mine! XHOT_1", &hot), None);
    assert_eq!(named_in("I want HOT_1.", &hot), Some((0, 1.0)));
    let jacket = vec![plain(7, "JKT-1", "Denim")];
    assert_eq!(named_in("mine JKT-10 please", &jacket), None);
    assert_eq!(code_position("mine JKT-10 please", "jkt-1"), None);
    assert_eq!(code_position("mine jkt-1!", "JKT-1"), Some(5));
}

#[test]
fn a_full_title_matches_and_a_vague_word_does_not() {
    let m = named_in("I'll take the vintage nike windbreaker", &catalog());
    assert_eq!(m.map(|m| m.0), Some(0));
    assert_eq!(named_in("I'll take the jacket!", &catalog()), None);
}

#[test]
fn most_of_a_title_is_enough() {
    let (index, score) =
        named_in("quiero la carhartt detroit jacket", &catalog()).expect("3 of 4 words");
    assert_eq!(index, 1);
    assert!(score >= MIN_TITLE_SHARE);
    assert!(
        (title_share("Carhartt Detroit Jacket - Black", "carhartt detroit jacket") - 0.75).abs()
            < 1e-6
    );
}

#[test]
fn a_title_word_with_one_typo_or_a_plural_still_counts() {
    assert_eq!(
        title_share("Vintage Nike Windbreaker", "vintaje nike windbreakers"),
        1.0
    );
}
