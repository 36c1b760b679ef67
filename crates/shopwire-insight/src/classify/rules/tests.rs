use super::matching::parse;
use super::*;
use crate::classify::lexicon;

fn intent(text: &str) -> Intent {
    RuleClassifier::new().classify(text).intent
}

#[track_caller]
fn assert_all(expected: Intent, texts: &[&str]) {
    let rules = RuleClassifier::new();
    for text in texts {
        let c = rules.classify(text);
        assert_eq!(c.intent, expected, "{text:?} → {c:?}");
    }
}

#[test]
fn claims_from_the_issue_are_purchases() {
    assert_all(
        Intent::Buy,
        &[
            "mine!!",
            "MIIIINE",
            "sold",
            "Sold!",
            "I'll take it",
            "ill take 2",
            "I want it",
            "dibs",
            "lo quiero",
            "me lo apartas",
            "apártamelo porfa",
            "yo lo compro",
            "quiero la chaqueta",
            "🛒",
            "🙋‍♀️ me",
        ],
    );
}

#[test]
fn hard_negatives_from_the_issue_are_not_purchases() {
    for text in [
        "I'd buy it if it were cheaper",
        "don't buy from them",
        "do you have it in M?",
        "¿tienes talla M?",
        "would buy if it came in XL",
        "no lo compres",
        "si fuera más barato lo compro",
        "I want it but it's too expensive",
        "I don't want it",
        "no lo quiero",
        "sold out?",
        "got mine yesterday, love it",
        "mine arrived broken",
    ] {
        let c = RuleClassifier::new().classify(text);
        assert_ne!(c.intent, Intent::Buy, "{text:?} → {c:?}");
    }
}

#[test]
fn size_price_and_shipping_questions_are_questions() {
    assert_all(
        Intent::Question,
        &[
            "do you have it in M?",
            "¿tienes talla M?",
            "how much?",
            "cuánto cuesta",
            "do you ship to Canada?",
            "M?",
            "is it true to size",
        ],
    );
}

#[test]
fn warnings_and_problems_are_complaints() {
    assert_all(
        Intent::Complaint,
        &[
            "don't buy from them",
            "no lo compres, es estafa",
            "my order never arrived 😡",
            "I want a refund",
            "llegó roto 👎",
        ],
    );
}

#[test]
fn opinions_and_price_objections_are_feedback() {
    assert_all(
        Intent::Feedback,
        &[
            "I'd buy it if it were cheaper",
            "so cute 😍",
            "🔥🔥🔥",
            "me encanta ❤️",
            "lo compraría si fuera más barato",
        ],
    );
}

#[test]
fn greetings_and_chatter_are_other() {
    assert_all(
        Intent::Other,
        &["hi from Texas!", "jajaja", "@maria look", "sold out 😭", ""],
    );
}

#[test]
fn quantities_and_sizes_alone_are_claims() {
    assert_all(
        Intent::Buy,
        &["2 please", "x2", "I'll take 2", "M in black pls"],
    );
}

#[test]
fn scores_are_in_range_and_clear_claims_pass_the_default_threshold() {
    let rules = RuleClassifier::new();
    for text in [
        "mine",
        "I'll take it",
        "lo quiero",
        "me lo apartas en talla M?",
    ] {
        let c = rules.classify(text);
        assert_eq!(c.intent, Intent::Buy, "{text:?}");
        assert!(c.score >= 0.5 && c.score <= 1.0, "{text:?} → {c:?}");
    }
    for asked in ["mine?", "sold?", "¿vendido?"] {
        assert_ne!(rules.classify(asked).intent, Intent::Buy, "{asked:?}");
    }
}

#[test]
fn classification_is_deterministic() {
    let rules = RuleClassifier::new();
    let text = "me lo apartas? 🙋‍♀️";
    assert_eq!(rules.classify(text), rules.classify(text));
    assert_eq!(intent("hola"), Intent::Other);
}

#[test]
fn every_cue_pattern_compiles_to_tokens() {
    for group in lexicon::GROUPS {
        for pattern in group.patterns {
            assert!(!parse(pattern).is_empty(), "{pattern:?} has no tokens");
        }
    }
}

#[test]
fn typod_claims_are_purchases() {
    assert_all(
        Intent::Buy,
        &[
            "ill tkae it",
            "I'll tske 2",
            "i wnat one",
            "iwant it",
            "I'lltake it",
            "mnie",
            "slod!",
            "lo qiero",
            "kero 2",
            "loqiero",
            "me lo aprtas",
            "me lo yebo",
            "yo lo comrpo",
            "aprtame uno",
        ],
    );
}

#[test]
fn common_words_near_a_cue_word_are_left_alone() {
    for text in [
        "is that the same one as before?",
        "never mind",
        "I don't mind",
        "kinda cute",
        "watching from Maine",
        "brb 5 min",
        "the vest is nice",
        "love shopping here",
        "I'll take a look later",
        "ill take a pic",
        "lo quiere mi hermana, no yo",
        "no me llegó",
    ] {
        let c = RuleClassifier::new().classify(text);
        assert_ne!(c.intent, Intent::Buy, "{text:?} → {c:?}");
    }
}

#[test]
fn asking_for_the_payment_link_is_a_purchase() {
    assert_all(
        Intent::Buy,
        &[
            "send me the link",
            "link pls",
            "where's the link?",
            "can you send me the link?",
            "where do I pay",
            "how do i pay?",
            "ready to pay",
            "mándame el link",
            "me pasas el link de pago?",
            "cómo pago",
            "dónde le pago?",
            "link al dm porfa",
        ],
    );
}

#[test]
fn a_link_complained_of_declined_or_asked_about_is_not_a_purchase() {
    for (text, expected) in [
        ("the link doesn't work", Intent::Complaint),
        ("link expired", Intent::Complaint),
        ("el link no sirve", Intent::Complaint),
        ("no me deja pagar", Intent::Complaint),
        ("don't send me the link, I changed my mind", Intent::Other),
        ("no me mandes el link", Intent::Other),
        ("thanks for the link!", Intent::Feedback),
        ("is the link safe?", Intent::Question),
        ("cuánto dura el link?", Intent::Question),
        ("can I pay with PayPal?", Intent::Question),
        ("puedo pagar con tarjeta?", Intent::Question),
    ] {
        let c = RuleClassifier::new().classify(text);
        assert_eq!(c.intent, expected, "{text:?} → {c:?}");
    }
}

#[test]
fn how_do_i_buy_is_a_purchase_and_other_how_tos_are_questions() {
    assert_all(
        Intent::Buy,
        &[
            "how do I buy this?",
            "how can i order one",
            "can I buy it?",
            "where can I buy this",
            "cómo lo compro?",
            "cómo le hago para apartarlo?",
            "puedo comprar 2?",
            "se puede apartar?",
        ],
    );
    assert_all(
        Intent::Question,
        &[
            "how do I return it?",
            "how do I track my order?",
            "cómo rastreo mi pedido?",
        ],
    );
    assert_ne!(intent("how do I get a refund? it came broken"), Intent::Buy);
}

#[test]
fn short_praise_is_feedback() {
    assert_all(
        Intent::Feedback,
        &[
            "love it",
            "luv it",
            "so cute 😍",
            "so cuet",
            "gorgous",
            "lovely",
            "qué bonito",
            "qué chulada",
            "una belleza",
            "qué bonitos colores",
        ],
    );
}

/// The steps [`work`] counts for classifying `text`.
fn work_for(rules: &RuleClassifier, text: &str) -> u64 {
    work::take();
    rules.classify(text);
    work::take()
}

/// Eight times the message is at most eight times the work: true of any work `a + b·n`
/// (a, b ≥ 0), false of a quadratic `c·n²` (64 times) once `n` is past a few repeats.
#[track_caller]
fn assert_linear(rules: &RuleClassifier, unit: &str, repeats: usize) {
    let once = work_for(rules, &unit.repeat(repeats));
    let eight = work_for(rules, &unit.repeat(8 * repeats));
    assert!(
        eight <= 8 * once,
        "{unit:?}: {once} steps for {repeats} repeats, {eight} for {}",
        8 * repeats
    );
}

#[test]
fn long_messages_take_work_linear_in_their_length() {
    let rules = RuleClassifier::new();
    // Each of these once took time quadratic in the number of repeats.
    for unit in [
        "me ",
        "sold ",
        "mine ",
        "lo qiero ",
        "broken ",
        "sold? ",
        "link ",
        "no lo quiero ",
        "i want it but ",
        "if i take it, ",
        "how do i buy ",
        "iwant ",
    ] {
        assert_linear(&rules, unit, 6_000 / unit.len());
    }
}

#[test]
fn the_work_counter_counts() {
    let rules = RuleClassifier::new();
    let short = work_for(&rules, "I'll take it");
    assert!(short > 0);
    assert!(work_for(&rules, &"I'll take it ".repeat(100)) > 10 * short);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    #[test]
    fn any_live_chat_grows_the_work_linearly(
        unit in "(mine|me|lo|quiero|qiero|sold|link|no|not|if|si|but|broken|want|take|it|how|do|i|buy|refund|pls|talla|M|2|x2|🔥|😍|@ana|[?,.!¿]| ){1,12}",
        repeats in 1usize..30,
    ) {
        let rules = RuleClassifier::new();
        let once = work_for(&rules, &unit.repeat(repeats));
        let eight = work_for(&rules, &unit.repeat(8 * repeats));
        proptest::prop_assert!(eight <= 8 * once, "{:?}: {} then {}", unit, once, eight);
    }
}
