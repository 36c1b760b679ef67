use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

fn item(id: i64, sku: &str, code: &str, title: &str, options: &[(&str, &str)]) -> CatalogItem {
    CatalogItem {
        product_id: id,
        sku: sku.into(),
        product_code: code.into(),
        title: title.into(),
        options: options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn catalog() -> Vec<CatalogItem> {
    let jacket = "Vintage Denim Jacket";
    vec![
        item(1, "JKT-S", "JKT", jacket, &[("size", "S")]),
        item(2, "JKT-M", "JKT", jacket, &[("size", "M")]),
        item(3, "JKT-L", "JKT", jacket, &[("size", "L")]),
        item(4, "SNK-8", "SNK", "Retro Sneakers", &[("size", "8")]),
        item(5, "SNK-9", "SNK", "Retro Sneakers", &[("size", "9")]),
        item(6, "SNK-10", "SNK", "Retro Sneakers", &[("size", "10")]),
        item(7, "TEE-1", "TEE-1", "Band Tee", &[]),
        item(
            8,
            "HD-BLK-M",
            "HD",
            "Hoodie",
            &[("color", "Black"), ("size", "M")],
        ),
        item(
            9,
            "HD-BLK-L",
            "HD",
            "Hoodie",
            &[("color", "Black"), ("size", "L")],
        ),
        item(
            10,
            "HD-GRY-M",
            "HD",
            "Hoodie",
            &[("color", "Grey"), ("size", "M")],
        ),
        item(11, "JKT-10", "JKT-10", "Suede Jacket", &[]),
        item(12, "CAP-1", "CAP-1", "Trucker Cap", &[]),
    ]
}

fn live() -> LiveContext {
    LiveContext {
        lineup: vec![
            ("A1".into(), "JKT".into()),
            ("A2".into(), "SNK".into()),
            ("A3".into(), "TEE-1".into()),
            ("A4".into(), "HD".into()),
        ],
        pinned: Some("JKT".into()),
        lineup_only: false,
    }
}

fn reading(text: &str) -> Reading {
    read(text, &catalog(), &live(), &ClaimRules::default())
}

fn claim(sku: &str, quantity: u32) -> Reading {
    let id = catalog()
        .iter()
        .find(|c| c.sku == sku)
        .expect("sku in catalog")
        .product_id;
    Reading::Claim {
        product_id: id,
        sku: sku.into(),
        quantity,
    }
}

fn needs(code: &str, quantity: u32) -> Reading {
    let family: Vec<&CatalogItem> = Box::leak(Box::new(catalog()))
        .iter()
        .filter(|c| c.product_code == code)
        .collect();
    Reading::NeedsVariant {
        product_code: code.into(),
        options: variant::options_of(&family),
        quantity,
    }
}

#[test]
fn two_of_the_medium_jacket_is_two_units_of_jkt_m() {
    assert_eq!(
        reading("two of the medium jacket please"),
        claim("JKT-M", 2)
    );
}

#[test]
fn a_claim_code_in_any_case_or_with_a_hash_names_its_item() {
    assert_eq!(reading("A3"), claim("TEE-1", 1));
    assert_eq!(reading("a3!!"), claim("TEE-1", 1));
    assert_eq!(reading("#A3 mine"), claim("TEE-1", 1));
}

#[test]
fn a_claim_code_is_never_read_as_a_quantity() {
    assert_eq!(reading("A2 size 9"), claim("SNK-9", 1));
    assert_eq!(reading("sold A3"), claim("TEE-1", 1));
}

#[test]
fn a_lineup_code_that_is_not_in_the_lineup_is_unmatched_not_the_pinned_item() {
    assert_eq!(reading("A7 M"), Reading::Unmatched);
}

#[test]
fn a_sku_is_named_only_as_a_whole_code() {
    assert_eq!(reading("JKT-10 please"), claim("JKT-10", 1));
    assert_eq!(reading("I want JKT-M."), claim("JKT-M", 1));
    assert_eq!(reading("mine CAP-1!"), claim("CAP-1", 1));
    assert_eq!(reading("mine CAP-12"), Reading::Unmatched);
}

#[test]
fn a_product_code_selects_its_variant_by_the_values_named() {
    assert_eq!(reading("JKT large"), claim("JKT-L", 1));
    assert_eq!(reading("JKT-XL"), needs("JKT", 1));
}

#[test]
fn a_title_named_in_the_text_beats_the_pinned_item() {
    assert_eq!(reading("the retro sneakers in 10"), claim("SNK-10", 1));
    assert_eq!(reading("suede jacket"), claim("JKT-10", 1));
}

#[test]
fn a_word_only_one_lineup_item_has_names_it_in_english_or_spanish() {
    assert_eq!(reading("hoodie grey M"), claim("HD-GRY-M", 1));
    assert_eq!(reading("la sudadera negra L"), claim("HD-BLK-L", 1));
    assert_eq!(reading("los tenis del 9"), claim("SNK-9", 1));
}

#[test]
fn nothing_named_means_the_pinned_item() {
    assert_eq!(reading("mine M"), claim("JKT-M", 1));
    assert_eq!(reading("mine!!"), needs("JKT", 1));
}

#[test]
fn nothing_named_and_nothing_pinned_is_unmatched() {
    let live = LiveContext {
        pinned: None,
        ..live()
    };
    assert_eq!(
        read("mine!", &catalog(), &live, &ClaimRules::default()),
        Reading::Unmatched
    );
}

#[test]
fn with_lineup_only_an_item_outside_the_lineup_is_unmatched() {
    let only = LiveContext {
        lineup_only: true,
        ..live()
    };
    let rules = ClaimRules::default();
    assert_eq!(read("CAP-1", &catalog(), &only, &rules), Reading::Unmatched);
    assert_eq!(read("mine M", &catalog(), &only, &rules), claim("JKT-M", 1));
    let pinned_outside = LiveContext {
        pinned: Some("CAP-1".into()),
        ..only
    };
    assert_eq!(
        read("mine", &catalog(), &pinned_outside, &rules),
        Reading::Unmatched
    );
    assert_eq!(
        read("A3", &catalog(), &pinned_outside, &rules),
        claim("TEE-1", 1)
    );
}

#[test]
fn quantities_are_read_in_every_usual_form() {
    for (text, n) in [
        ("A3 2", 2),
        ("sold 2 A3", 2),
        ("A3 x2", 2),
        ("A3 x 2", 2),
        ("A3 ×3", 3),
        ("2x A3", 2),
        ("A3 2 pcs", 2),
        ("A3 2pcs", 2),
        ("A3 three", 3),
        ("A3 dos", 2),
        ("A3 tres porfa", 3),
        ("A3 un par", 2),
        ("A3 a pair", 2),
        ("A3 a couple", 2),
    ] {
        assert_eq!(reading(text), claim("TEE-1", n), "{text}");
    }
}

#[test]
fn a_larger_ask_is_capped_at_the_maximum() {
    assert_eq!(reading("A3 x12"), claim("TEE-1", 5));
    assert_eq!(reading("A3 veinte"), claim("TEE-1", 5));
    let rules = ClaimRules { max_quantity: 2 };
    assert_eq!(
        read("A3 x3", &catalog(), &live(), &rules),
        claim("TEE-1", 2)
    );
}

#[test]
fn a_bare_number_over_twenty_is_no_quantity() {
    assert_eq!(reading("A3 50"), claim("TEE-1", 1));
}

#[test]
fn a_price_a_time_or_a_size_is_no_quantity() {
    assert_eq!(reading("A3 for $20"), claim("TEE-1", 1));
    assert_eq!(reading("A3 20 pesos"), claim("TEE-1", 1));
    assert_eq!(reading("A3 at 5:30"), claim("TEE-1", 1));
    assert_eq!(reading("A3 size 8"), claim("TEE-1", 1));
    assert_eq!(reading("A3 talla 10"), claim("TEE-1", 1));
    assert_eq!(reading("A3 8.5"), claim("TEE-1", 1));
}

#[test]
fn a_pair_of_shoes_is_one_unit() {
    assert_eq!(reading("a pair of the sneakers size 9"), claim("SNK-9", 1));
    assert_eq!(reading("2 pairs of A2 in 9"), claim("SNK-9", 2));
}

#[test]
fn a_bare_number_is_the_size_when_the_item_is_sized_in_numbers() {
    assert_eq!(reading("A2 9"), claim("SNK-9", 1));
    assert_eq!(reading("A2 2 10"), claim("SNK-10", 2));
    assert_eq!(reading("A2 2"), needs("SNK", 2));
    assert_eq!(reading("A2 12"), needs("SNK", 1));
}

#[test]
fn size_synonyms_fold_case_and_accents() {
    for (text, sku) in [
        ("mine small", "JKT-S"),
        ("la chica", "JKT-S"),
        ("pequeña", "JKT-S"),
        ("MEDIANA", "JKT-M"),
        ("med pls", "JKT-M"),
        ("grande", "JKT-L"),
        ("Large!!!", "JKT-L"),
    ] {
        assert_eq!(reading(text), claim(sku, 1), "{text}");
    }
}

#[test]
fn colours_are_read_in_english_and_spanish() {
    assert_eq!(reading("A4 negro L"), claim("HD-BLK-L", 1));
    assert_eq!(reading("A4 gris M"), claim("HD-GRY-M", 1));
    assert_eq!(reading("A4 gray medium"), claim("HD-GRY-M", 1));
}

#[test]
fn values_that_leave_one_variant_select_it() {
    assert_eq!(reading("A4 L"), claim("HD-BLK-L", 1));
}

#[test]
fn no_value_a_missing_value_or_two_values_need_a_variant() {
    assert_eq!(reading("A4 M"), needs("HD", 1));
    assert_eq!(reading("A4 red M"), needs("HD", 1));
    assert_eq!(reading("A4 grey L"), needs("HD", 1));
    assert_eq!(reading("A1 XL"), needs("JKT", 1));
    assert_eq!(reading("A1 M or L"), needs("JKT", 1));
}

#[test]
fn a_product_with_one_variant_needs_no_variant() {
    assert_eq!(reading("A3 in XL"), claim("TEE-1", 1));
}

#[test]
fn sizes_are_listed_in_size_order() {
    let Reading::NeedsVariant { options, .. } = reading("A1") else {
        panic!("the jacket needs a size");
    };
    assert_eq!(
        options,
        BTreeMap::from([("size".to_string(), vec!["S".into(), "M".into(), "L".into()])])
    );
    let Reading::NeedsVariant { options, .. } = reading("A2") else {
        panic!("the sneakers need a size");
    };
    assert_eq!(options["size"], ["8", "9", "10"]);
}

#[test]
fn emoji_repeated_letters_and_punctuation_do_not_break_it() {
    assert_eq!(reading("mineeee 😍😍 MEDIUMMM!!!"), claim("JKT-M", 1));
    assert_eq!(reading("¡¡MÍA!! 🙋‍♀️ la M"), claim("JKT-M", 1));
    assert_eq!(reading("A3 2️⃣"), claim("TEE-1", 2));
}

#[test]
fn only_the_first_characters_are_read() {
    let long = format!("mine M {}", "🔥 la L ".repeat(1000));
    let head: String = long.chars().take(MAX_SCAN_CHARS).collect();
    assert_eq!(reading(&long), reading(&head));
}

#[test]
fn a_megabyte_of_text_reads_as_its_first_characters() {
    // Bounded by MAX_SCAN_CHARS: a 1 MB comment costs what its first 500 characters do
    // (plus one pass to cut the text).
    let huge = "x2 A1 JKT-M talla 9 ".repeat(50_000);
    let head: String = huge.chars().take(MAX_SCAN_CHARS).collect();
    assert_eq!(reading(&huge), reading(&head));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn a_long_message_reads_as_its_first_max_scan_chars_characters(
        text in "([aA][0-9]|[0-9]{1,2}|x[0-9]|JKT-[SML]|HD|size|talla|negro|grey|M|L|mine|la|🔥|ñ|[.,!?]| ){200,900}"
    ) {
        let head: String = text.chars().take(MAX_SCAN_CHARS).collect();
        prop_assert_eq!(reading(&text), reading(&head));
    }
}

proptest! {
    #[test]
    fn any_text_reads_without_panicking(text in "\\PC{0,2000}") {
        let r = reading(&text);
        if let Some(q) = r.quantity() {
            prop_assert!((1..=5).contains(&q));
        }
    }

    #[test]
    fn live_chat_like_text_reads_without_panicking(
        text in "([aA][0-9]|[0-9]{1,3}|x[0-9]|JKT-[A-Z0-9]|CAP-1|size|talla|[$#%.,:/ -]|y media|🔥|ñ|mine|[SMLX]{1,3}| ){0,300}"
    ) {
        let _ = reading(&text);
    }
}
