//! The rule classifier against the labeled evaluation sets: prints precision and recall
//! per intent, a confusion matrix and the misses, and holds the line on overall accuracy,
//! on purchase precision (a false `buy` makes an order), and on the issue's hard negatives.
//!
//! `cargo test -p shopwire-insight --test classify_eval -- --nocapture` shows the report;
//! a failing run shows it anyway.
//!
//! `data/intent-eval.jsonl` informed the lexicon, so its accuracy is an upper bound. Batches
//! were written before looking at how the rules handle them and measured first: lines 1–366
//! (written before any tuning) scored 0.932, lines 367–466 (after the first fixes) 0.860,
//! lines 467–526 (after the second) 0.900; each miss then led to a general fix, never to a
//! copy of the line. Keep that habit: add a fresh batch, note its score, then fix.
//!
//! Issue 12 ("Intent, sharper") made asking for the payment link and asking how to buy
//! claims in a live sale; seven lines of the set that said otherwise ("link pls", "how do
//! I buy this?", "cómo compro?", …) were relabelled `buy` (on the old labels the rules
//! now score 0.985 there, 518/526).
//!
//! The live-sale batches ([`BATCHES`]) carry `lang` (`en`/`es`) and `kind` (`typo-buy`,
//! `link`, `how-to-buy`, `praise`, `negative`) on every line and are reported per language:
//! five-way accuracy and buy-vs-not accuracy (the decision that makes an order). The
//! holdout batch was written first and measured on the rules as they were (en five-way
//! 0.339, buy-vs-not 0.465; es 0.375, 0.453); the rules were then tuned on the tuning
//! batch only, and the holdout measured once more (en 0.913, 0.929; es 0.977, 0.992).
//! Its floors are those numbers rounded down: it is no longer untouched once a change is
//! made to fix one of its misses, so add a fresh batch for the next round instead.
use std::collections::HashMap;

use serde::Deserialize;
use shopwire_insight::classify::{Intent, RuleClassifier};

const EVAL_SET: &str = include_str!("../data/intent-eval.jsonl");
const MIN_ACCURACY: f64 = 0.85;
const MIN_BUY_PRECISION: f64 = 0.90;

/// Messages the issue names: none of them is a purchase.
const HARD_NEGATIVES: &[&str] = &[
    "I'd buy it if it were cheaper",
    "don't buy from them",
    "do you have it in M?",
    "¿tienes talla M?",
    "would buy if it came in XL",
    "si fuera más barato lo compraría",
    "no lo compres",
    "I want it but it's too expensive",
];

#[derive(Debug, Deserialize)]
struct Example {
    text: String,
    intent: Intent,
    /// `en` or `es` (live-sale batches only).
    #[serde(default)]
    lang: String,
    /// What the line tests (live-sale batches only).
    #[serde(default)]
    kind: String,
}

struct Outcome<'a> {
    example: &'a Example,
    predicted: Intent,
    score: f32,
}

fn examples() -> Vec<Example> {
    parse("intent-eval.jsonl", EVAL_SET)
}

fn parse(file: &str, text: &str) -> Vec<Example> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{file} line {}: {e}", i + 1))
        })
        .collect()
}

fn classify_all<'a>(rules: &RuleClassifier, examples: &'a [Example]) -> Vec<Outcome<'a>> {
    examples
        .iter()
        .map(|example| {
            let c = rules.classify(&example.text);
            assert!((0.0..=1.0).contains(&c.score), "{:?} → {c:?}", example.text);
            Outcome {
                example,
                predicted: c.intent,
                score: c.score,
            }
        })
        .collect()
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        1.0
    } else {
        num as f64 / den as f64
    }
}

/// The per-intent table, the confusion matrix and the misses, as text.
fn report(outcomes: &[Outcome<'_>]) -> String {
    let mut counts: HashMap<(Intent, Intent), usize> = HashMap::new();
    for o in outcomes {
        *counts.entry((o.example.intent, o.predicted)).or_default() += 1;
    }
    let count =
        |gold: Intent, predicted: Intent| counts.get(&(gold, predicted)).copied().unwrap_or(0);
    let mut text = format!(
        "{:<10} {:>5} {:>9} {:>10} {:>7}\n",
        "intent", "n", "correct", "precision", "recall"
    );
    for intent in Intent::ALL {
        let n: usize = Intent::ALL.iter().map(|p| count(intent, *p)).sum();
        let predicted: usize = Intent::ALL.iter().map(|g| count(*g, intent)).sum();
        let correct = count(intent, intent);
        text.push_str(&format!(
            "{:<10} {:>5} {:>9} {:>10.3} {:>7.3}\n",
            intent.as_str(),
            n,
            correct,
            ratio(correct, predicted),
            ratio(correct, n)
        ));
    }
    let correct = outcomes
        .iter()
        .filter(|o| o.predicted == o.example.intent)
        .count();
    text.push_str(&format!(
        "overall accuracy {:.3} ({correct}/{})\n\n",
        ratio(correct, outcomes.len()),
        outcomes.len(),
    ));
    text.push_str(&format!(
        "confusion (rows: label, columns: predicted)\n{:<10}",
        ""
    ));
    for intent in Intent::ALL {
        text.push_str(&format!(" {:>9}", intent.as_str()));
    }
    for gold in Intent::ALL {
        text.push_str(&format!("\n{:<10}", gold.as_str()));
        for predicted in Intent::ALL {
            text.push_str(&format!(" {:>9}", count(gold, predicted)));
        }
    }
    text.push_str("\n\nmisses\n");
    for o in outcomes.iter().filter(|o| o.predicted != o.example.intent) {
        text.push_str(&format!(
            "  {:<9} → {:<9} {:.2}  {}\n",
            o.example.intent.as_str(),
            o.predicted.as_str(),
            o.score,
            o.example.text
        ));
    }
    text
}

#[test]
fn the_rules_classify_the_evaluation_set_accurately() {
    let examples = examples();
    let outcomes = classify_all(&RuleClassifier::new(), &examples);
    println!("{}", report(&outcomes));
    assert!(
        examples.len() >= 300,
        "the set has {} examples",
        examples.len()
    );

    let correct = outcomes
        .iter()
        .filter(|o| o.predicted == o.example.intent)
        .count();
    let accuracy = ratio(correct, outcomes.len());
    assert!(
        accuracy >= MIN_ACCURACY,
        "overall accuracy {accuracy:.3} < {MIN_ACCURACY}"
    );

    let predicted_buy: Vec<_> = outcomes
        .iter()
        .filter(|o| o.predicted == Intent::Buy)
        .collect();
    let true_buy = predicted_buy
        .iter()
        .filter(|o| o.example.intent == Intent::Buy)
        .count();
    let precision = ratio(true_buy, predicted_buy.len());
    assert!(
        precision >= MIN_BUY_PRECISION,
        "buy precision {precision:.3} < {MIN_BUY_PRECISION}"
    );
}

#[test]
fn the_issues_hard_negatives_are_never_purchases() {
    let rules = RuleClassifier::new();
    let wrong: Vec<String> = HARD_NEGATIVES
        .iter()
        .map(|text| (text, rules.classify(text)))
        .filter(|(_, c)| c.intent == Intent::Buy)
        .map(|(text, c)| format!("{text:?} → buy {:.2}", c.score))
        .collect();
    assert!(wrong.is_empty(), "classified as purchases: {wrong:#?}");
}

/// A live-sale batch (issue 12, "Intent, sharper"): typo'd claims, payment-link requests,
/// how-do-I-buy questions (buys in a live sale), short praise, and hard negatives, EN and ES.
struct Batch {
    file: &'static str,
    text: &'static str,
    /// Untouched: written before any tuning and never tuned against.
    untouched: bool,
    /// Minimum five-way and buy-vs-not accuracy per language, and buy precision overall.
    floors: &'static [Floor],
    min_buy_precision: f64,
}

struct Floor {
    lang: &'static str,
    five_way: f64,
    buy_vs_not: f64,
}

const fn floor(lang: &'static str, five_way: f64, buy_vs_not: f64) -> Floor {
    Floor {
        lang,
        five_way,
        buy_vs_not,
    }
}

const BATCHES: &[Batch] = &[
    Batch {
        file: "intent-eval-live-sale-holdout.jsonl",
        text: include_str!("../data/intent-eval-live-sale-holdout.jsonl"),
        untouched: true,
        // Measured after tuning: en 0.913 / 0.929, es 0.977 / 0.992, buy precision 0.993.
        floors: &[floor("en", 0.90, 0.92), floor("es", 0.96, 0.98)],
        min_buy_precision: 0.98,
    },
    Batch {
        file: "intent-eval-live-sale-tuning.jsonl",
        text: include_str!("../data/intent-eval-live-sale-tuning.jsonl"),
        untouched: false,
        // Measured: en 0.971 / 0.976, es 0.975 / 0.980, buy precision 0.994.
        floors: &[floor("en", 0.96, 0.96), floor("es", 0.96, 0.97)],
        min_buy_precision: 0.98,
    },
];

/// Per-language accuracy figures of one batch.
#[derive(Debug, Default, Clone, Copy)]
struct Figures {
    n: usize,
    five_way: usize,
    buy_vs_not: usize,
    predicted_buy: usize,
    true_buy: usize,
    gold_buy: usize,
}

impl Figures {
    fn add(&mut self, o: &Outcome<'_>) {
        let (gold, predicted) = (o.example.intent, o.predicted);
        self.n += 1;
        self.five_way += usize::from(gold == predicted);
        self.buy_vs_not += usize::from((gold == Intent::Buy) == (predicted == Intent::Buy));
        self.predicted_buy += usize::from(predicted == Intent::Buy);
        self.gold_buy += usize::from(gold == Intent::Buy);
        self.true_buy += usize::from(gold == Intent::Buy && predicted == Intent::Buy);
    }

    fn row(&self, label: &str) -> String {
        format!(
            "{label:<15} {:>4} {:>9.3} {:>11.3} {:>10.3} {:>8.3}\n",
            self.n,
            ratio(self.five_way, self.n),
            ratio(self.buy_vs_not, self.n),
            ratio(self.true_buy, self.predicted_buy),
            ratio(self.true_buy, self.gold_buy),
        )
    }
}

fn figures<'a>(outcomes: impl IntoIterator<Item = &'a Outcome<'a>>) -> Figures {
    let mut f = Figures::default();
    for o in outcomes {
        f.add(o);
    }
    f
}

#[test]
fn the_rules_classify_the_live_sale_batches_accurately() {
    let rules = RuleClassifier::new();
    let mut failures = Vec::new();
    for batch in BATCHES {
        let examples = parse(batch.file, batch.text);
        for e in &examples {
            assert!(
                matches!(e.lang.as_str(), "en" | "es") && !e.kind.is_empty(),
                "{}: {:?} lacks lang or kind",
                batch.file,
                e.text
            );
        }
        let outcomes = classify_all(&rules, &examples);
        let mut text = format!(
            "== {} ({})\n{:<15} {:>4} {:>9} {:>11} {:>10} {:>8}\n",
            batch.file,
            if batch.untouched {
                "untouched"
            } else {
                "tuning"
            },
            "",
            "n",
            "five-way",
            "buy-vs-not",
            "buy prec",
            "buy rec"
        );
        let mut langs: Vec<&str> = examples.iter().map(|e| e.lang.as_str()).collect();
        langs.sort_unstable();
        langs.dedup();
        for lang in &langs {
            let f = figures(outcomes.iter().filter(|o| o.example.lang == *lang));
            text.push_str(&f.row(lang));
        }
        let all = figures(&outcomes);
        text.push_str(&all.row("all"));
        let mut kinds: Vec<&str> = examples.iter().map(|e| e.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        for kind in kinds {
            for lang in &langs {
                let f = figures(
                    outcomes
                        .iter()
                        .filter(|o| o.example.kind == kind && o.example.lang == *lang),
                );
                text.push_str(&f.row(&format!("{kind}/{lang}")));
            }
        }
        println!("{text}\n{}", report(&outcomes));

        for floor in batch.floors {
            let f = figures(outcomes.iter().filter(|o| o.example.lang == floor.lang));
            let (five_way, buy_vs_not) = (ratio(f.five_way, f.n), ratio(f.buy_vs_not, f.n));
            if five_way < floor.five_way {
                failures.push(format!(
                    "{} {}: five-way {five_way:.3} < {}",
                    batch.file, floor.lang, floor.five_way
                ));
            }
            if buy_vs_not < floor.buy_vs_not {
                failures.push(format!(
                    "{} {}: buy-vs-not {buy_vs_not:.3} < {}",
                    batch.file, floor.lang, floor.buy_vs_not
                ));
            }
        }
        let precision = ratio(all.true_buy, all.predicted_buy);
        if precision < batch.min_buy_precision {
            failures.push(format!(
                "{}: buy precision {precision:.3} < {}",
                batch.file, batch.min_buy_precision
            ));
        }
    }
    assert!(failures.is_empty(), "below the floors: {failures:#?}");
}
