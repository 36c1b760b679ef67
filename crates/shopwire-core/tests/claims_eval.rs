//! The claim reader against its evaluation set (`data/claims-eval.jsonl`): buy messages in
//! English and Spanish (live-chat slang, emoji, typos), each with the reading a seller
//! expects against one demo thrift live (the catalog, lineup and pin below). Prints
//! accuracy per batch, per language and per field, and the misses; holds a floor.
//!
//! `cargo test -p shopwire-core --test claims_eval -- --nocapture` shows the report; a
//! failing run shows it anyway.
//!
//! Batches 1–2 (269 lines) were written first and the reader was tuned on them (item
//! 0.985, quantity 1.000, outcome 0.985). Batches 3–4 (251 lines: 166 EN, 85 ES) were
//! written afterwards, without looking at how the reader handles them, and the reader was
//! not changed for them; measured once: item 0.960, quantity 0.992, outcome 0.960 (EN
//! 0.946 / 0.988 / 0.946, ES 0.988 / 1.000 / 0.988; batch 3 0.963 / 0.992 / 0.963, batch 4
//! 0.957 / 0.991 / 0.957). Keep that habit: add a fresh batch, note its score here, then
//! fix.
//!
//! Fields: `item` is the SKU of a claim, the product code of a `needs_variant`, nothing for
//! `unmatched`; `quantity` is scored on lines that expect an item; `outcome` is `claim`,
//! `needs_variant` or `unmatched`; `all` is every field right.

use std::collections::BTreeMap;

use serde::Deserialize;
use shopwire_core::claims::{CatalogItem, ClaimRules, LiveContext, Reading, read};

const EVAL_SET: &str = include_str!("../data/claims-eval.jsonl");

/// Batches the reader was tuned on, and their floor on every field.
const TUNED: &[&str] = &["1", "2"];
const TUNED_FLOOR: f64 = 0.9;
/// Batches never tuned on, and their floor: a little under what they measured (lowest
/// field of either batch: 0.957).
const UNTOUCHED: &[&str] = &["3", "4"];
const UNTOUCHED_FLOOR: f64 = 0.93;

#[derive(Debug, Deserialize)]
struct Example {
    batch: String,
    lang: String,
    text: String,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
struct Expect {
    sku: Option<String>,
    quantity: u32,
    outcome: String,
}

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

/// A thrift live: a denim jacket in S/M/L, sneakers in 8/9/9.5/10, a one-size band tee, a
/// hoodie in black S/M/L and heather grey M/L (no grey S) in the lineup; a Carhartt jacket,
/// two caps whose SKUs differ by a digit, and a fleece vest in navy/forest green off it.
fn demo_catalog() -> Vec<CatalogItem> {
    let jacket = "Vintage Levi's Denim Jacket";
    let sneakers = "Nike Air Max 90 Sneakers";
    let hoodie = "Champion Reverse Weave Hoodie";
    let vest = "Patagonia Fleece Vest";
    vec![
        item(11, "JKT-DNM-S", "JKT-DNM", jacket, &[("size", "S")]),
        item(12, "JKT-DNM-M", "JKT-DNM", jacket, &[("size", "M")]),
        item(13, "JKT-DNM-L", "JKT-DNM", jacket, &[("size", "L")]),
        item(21, "SNK-AM90-8", "SNK-AM90", sneakers, &[("size", "8")]),
        item(22, "SNK-AM90-9", "SNK-AM90", sneakers, &[("size", "9")]),
        item(23, "SNK-AM90-95", "SNK-AM90", sneakers, &[("size", "9.5")]),
        item(24, "SNK-AM90-10", "SNK-AM90", sneakers, &[("size", "10")]),
        item(31, "TEE-NRV-93", "TEE-NRV-93", "Nirvana 1993 Tour Tee", &[]),
        item(
            41,
            "HOOD-CHP-BLK-S",
            "HOOD-CHP",
            hoodie,
            &[("color", "Black"), ("size", "S")],
        ),
        item(
            42,
            "HOOD-CHP-BLK-M",
            "HOOD-CHP",
            hoodie,
            &[("color", "Black"), ("size", "M")],
        ),
        item(
            43,
            "HOOD-CHP-BLK-L",
            "HOOD-CHP",
            hoodie,
            &[("color", "Black"), ("size", "L")],
        ),
        item(
            44,
            "HOOD-CHP-GRY-M",
            "HOOD-CHP",
            hoodie,
            &[("color", "Heather Grey"), ("size", "M")],
        ),
        item(
            45,
            "HOOD-CHP-GRY-L",
            "HOOD-CHP",
            hoodie,
            &[("color", "Heather Grey"), ("size", "L")],
        ),
        item(
            51,
            "CRH-DET-002",
            "CRH-DET-002",
            "Carhartt Detroit Jacket",
            &[],
        ),
        item(61, "CAP-1", "CAP-1", "Trucker Cap", &[]),
        item(62, "CAP-10", "CAP-10", "Bucket Hat", &[]),
        item(71, "PAT-VST-NVY", "PAT-VST", vest, &[("color", "Navy")]),
        item(
            72,
            "PAT-VST-GRN",
            "PAT-VST",
            vest,
            &[("color", "Forest Green")],
        ),
    ]
}

fn demo_live() -> LiveContext {
    LiveContext {
        lineup: vec![
            ("A1".into(), "JKT-DNM".into()),
            ("A2".into(), "SNK-AM90".into()),
            ("A3".into(), "TEE-NRV-93".into()),
            ("A4".into(), "HOOD-CHP".into()),
        ],
        pinned: Some("JKT-DNM".into()),
        lineup_only: false,
    }
}

fn examples() -> Vec<Example> {
    EVAL_SET
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("claims-eval.jsonl line {}: {e}", i + 1))
        })
        .collect()
}

/// Right answers per field over one group of lines.
#[derive(Debug, Default, Clone, Copy)]
struct Score {
    lines: usize,
    item: usize,
    outcome: usize,
    /// Lines that expect an item, and those of them with the right quantity.
    with_item: usize,
    quantity: usize,
    all: usize,
}

impl Score {
    fn add(&mut self, right: Right) {
        self.lines += 1;
        self.item += usize::from(right.item);
        self.outcome += usize::from(right.outcome);
        if let Some(q) = right.quantity {
            self.with_item += 1;
            self.quantity += usize::from(q);
        }
        self.all += usize::from(right.all());
    }

    fn ratios(&self) -> [f64; 4] {
        let r = |n: usize, d: usize| if d == 0 { 1.0 } else { n as f64 / d as f64 };
        [
            r(self.item, self.lines),
            r(self.quantity, self.with_item),
            r(self.outcome, self.lines),
            r(self.all, self.lines),
        ]
    }
}

#[derive(Debug, Clone, Copy)]
struct Right {
    item: bool,
    /// `None` on a line that expects no item.
    quantity: Option<bool>,
    outcome: bool,
}

impl Right {
    fn all(&self) -> bool {
        self.item && self.outcome && self.quantity.unwrap_or(true)
    }
}

fn judge(expect: &Expect, got: &Reading) -> Right {
    let (item, outcome) = match got {
        Reading::Claim { sku, .. } => (Some(sku.as_str()), "claim"),
        Reading::NeedsVariant { product_code, .. } => {
            (Some(product_code.as_str()), "needs_variant")
        }
        Reading::Unmatched => (None, "unmatched"),
    };
    Right {
        item: item == expect.sku.as_deref(),
        quantity: (expect.outcome != "unmatched").then(|| got.quantity() == Some(expect.quantity)),
        outcome: outcome == expect.outcome,
    }
}

fn describe(r: &Reading) -> String {
    match r {
        Reading::Claim { sku, quantity, .. } => format!("claim {sku} ×{quantity}"),
        Reading::NeedsVariant {
            product_code,
            quantity,
            ..
        } => format!("needs_variant {product_code} ×{quantity}"),
        Reading::Unmatched => "unmatched".into(),
    }
}

#[test]
fn claims_reader_holds_its_floors_on_the_evaluation_set() {
    let catalog = demo_catalog();
    let live = demo_live();
    let rules = ClaimRules::default();
    let mut groups: BTreeMap<String, Score> = BTreeMap::new();
    let mut misses = String::new();
    for ex in examples() {
        let got = read(&ex.text, &catalog, &live, &rules);
        let right = judge(&ex.expect, &got);
        let untouched = if UNTOUCHED.contains(&ex.batch.as_str()) {
            "untouched"
        } else {
            "tuned"
        };
        for key in [
            format!("batch {}", ex.batch),
            format!("batch {} {}", ex.batch, ex.lang),
            format!("{untouched} {}", ex.lang),
            untouched.to_string(),
            "all".to_string(),
        ] {
            groups.entry(key).or_default().add(right);
        }
        if !right.all() {
            let want = ex.expect.sku.as_deref().unwrap_or("-");
            misses.push_str(&format!(
                "  [b{} {}] {:?}: want {} {} ×{}, got {}\n",
                ex.batch,
                ex.lang,
                ex.text,
                ex.expect.outcome,
                want,
                ex.expect.quantity,
                describe(&got)
            ));
        }
    }
    let mut table = format!(
        "{:<18} {:>5} {:>7} {:>9} {:>8} {:>7}\n",
        "group", "n", "item", "quantity", "outcome", "all"
    );
    for (key, score) in &groups {
        let [i, q, o, a] = score.ratios();
        table.push_str(&format!(
            "{key:<18} {:>5} {i:>7.3} {q:>9.3} {o:>8.3} {a:>7.3}\n",
            score.lines
        ));
    }
    eprintln!("{table}\nmisses:\n{misses}");

    for (batches, floor) in [(TUNED, TUNED_FLOOR), (UNTOUCHED, UNTOUCHED_FLOOR)] {
        for batch in batches {
            let Some(score) = groups.get(&format!("batch {batch}")) else {
                continue;
            };
            let [i, q, o, _] = score.ratios();
            for (field, value) in [("item", i), ("quantity", q), ("outcome", o)] {
                assert!(
                    value >= floor,
                    "batch {batch} {field} accuracy {value:.3} is below {floor}\n{table}"
                );
            }
        }
    }
}
