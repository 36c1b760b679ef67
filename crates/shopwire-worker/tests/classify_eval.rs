//! The rule classifier against the labeled evaluation set (`data/intent-eval.jsonl`):
//! prints precision and recall per intent, a confusion matrix and the misses, and holds the
//! line on overall accuracy, on purchase precision (a false `buy` makes an order), and on
//! the issue's hard negatives.
//!
//! `cargo test -p shopwire-worker --test classify_eval -- --nocapture` shows the report;
//! a failing run shows it anyway.
//!
//! The set informed the lexicon, so its accuracy is an upper bound. Batches were written
//! before looking at how the rules handle them and measured first: lines 1–366 (written
//! before any tuning) scored 0.932, lines 367–466 (after the first fixes) 0.860, lines
//! 467–526 (after the second) 0.900; each miss then led to a general fix, never to a
//! copy of the line. Keep that habit: add a fresh batch, note its score, then fix.

use std::collections::HashMap;

use serde::Deserialize;
use shopwire_worker::classify::{Intent, RuleClassifier};

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
}

struct Outcome<'a> {
    example: &'a Example,
    predicted: Intent,
    score: f32,
}

fn examples() -> Vec<Example> {
    EVAL_SET
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("intent-eval.jsonl line {}: {e}", i + 1))
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
    let rules = RuleClassifier::new();
    let outcomes: Vec<Outcome<'_>> = examples
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
        .collect();
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
