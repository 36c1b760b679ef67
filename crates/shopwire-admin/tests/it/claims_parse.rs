//! `claims parse`: stdin lines read as buy comments against the catalog, the lineup and
//! the pin, printed as JSON lines; nothing is recorded or reserved.

use std::process::Stdio;

use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::io::AsyncWriteExt;

use crate::helpers::Admin;

/// `inventory set SKU` at 45 usd, 3 in stock, then `extra`.
async fn set(admin: &Admin, sku: &str, title: &str, extra: &[&str]) {
    let mut args = vec![
        "inventory",
        "set",
        sku,
        "--title",
        title,
        "--price",
        "45",
        "--stock",
        "3",
    ];
    args.extend_from_slice(extra);
    let run = admin.run(&args).await;
    assert_eq!(run.code, Some(0), "{run:?}");
}

/// A jacket in S/M/L (lineup A1), sneakers in 8/9 (A2), a cap on its own (A3, pinned) and
/// a scarf outside the lineup.
async fn live_sale(admin: &Admin) {
    for (sku, title, code, size) in [
        ("DNM-JKT-S", "Sherpa Denim Jacket", "DNM-JKT", "size=S"),
        ("DNM-JKT-M", "Sherpa Denim Jacket", "DNM-JKT", "size=M"),
        ("DNM-JKT-L", "Sherpa Denim Jacket", "DNM-JKT", "size=L"),
        ("SNK-AF1-8", "Air Force 1 Sneakers", "SNK-AF1", "size=8"),
        ("SNK-AF1-9", "Air Force 1 Sneakers", "SNK-AF1", "size=9"),
    ] {
        set(admin, sku, title, &["--variant-of", code, "--option", size]).await;
    }
    set(admin, "CAP-RED-001", "Red Corduroy Cap", &[]).await;
    set(admin, "SCF-WOOL-001", "Wool Scarf", &[]).await;
    for item in ["DNM-JKT", "SNK-AF1", "CAP-RED-001"] {
        let add = admin
            .run(&["live", "add", "--streamer", "philia", "--sku", item])
            .await;
        assert_eq!(add.code, Some(0), "{add:?}");
    }
    let pin = admin
        .run(&[
            "live",
            "pin",
            "--streamer",
            "philia",
            "--sku",
            "CAP-RED-001",
        ])
        .await;
    assert_eq!(pin.code, Some(0), "{pin:?}");
}

/// Run `claims parse args` over `input` with `env`; the JSON lines it printed.
async fn parse(pool: &PgPool, args: &[&str], env: &[(&str, &str)], input: &str) -> Vec<Value> {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_shopwire-admin"))
        .args(["claims", "parse"])
        .args(args)
        .env_clear()
        .env("DATABASE_URL", shopwire_testkit::database_url(pool))
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin
        .write_all(input.as_bytes())
        .await
        .expect("stdin takes the lines");
    drop(stdin);
    let output = child.wait_with_output().await.expect("the binary finishes");
    let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "stdout: {stdout} stderr: {stderr}");
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
        .collect()
}

/// `(text, outcome, sku, quantity)` of each line.
fn readings(lines: &[Value]) -> Vec<(&str, &str, Value, Value)> {
    lines
        .iter()
        .map(|l| {
            (
                l["text"].as_str().expect("text"),
                l["outcome"].as_str().expect("outcome"),
                l["sku"].clone(),
                l["quantity"].clone(),
            )
        })
        .collect()
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn lines_read_as_claims_against_the_catalog_lineup_and_pin(pool: PgPool) {
    let admin = Admin::new(&pool);
    live_sale(&admin).await;
    let lines = parse(
        &pool,
        &["--streamer", "philia"],
        &[],
        "I'll take A1 size M x2\n\
         I'll take A1\n\
         how much is shipping?\n\
         \n\
         me llevo dos A2 talla 9\n\
         I'll take it\n\
         sold A9\n",
    )
    .await;
    assert_eq!(
        readings(&lines),
        [
            (
                "I'll take A1 size M x2",
                "claim",
                json!("DNM-JKT-M"),
                json!(2)
            ),
            ("I'll take A1", "needs_variant", Value::Null, json!(1)),
            (
                "how much is shipping?",
                "not_a_buy",
                Value::Null,
                Value::Null
            ),
            (
                "me llevo dos A2 talla 9",
                "claim",
                json!("SNK-AF1-9"),
                json!(2)
            ),
            ("I'll take it", "claim", json!("CAP-RED-001"), json!(1)),
            ("sold A9", "unmatched", Value::Null, Value::Null),
        ]
    );
    for line in &lines {
        let fields: Vec<&str> = line
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            fields.len(),
            6,
            "text, intent, score, sku, quantity, outcome: {line}"
        );
        let score = line["score"].as_f64().expect("score is a number");
        assert!((0.0..=1.0).contains(&score), "{line}");
    }
    assert_eq!(lines[0]["intent"], "buy");
    assert_eq!(lines[2]["intent"], "question");

    // Nothing was recorded or reserved.
    let (claims, reserved): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM claims), (SELECT coalesce(sum(reserved), 0) FROM products)",
    )
    .fetch_one(&pool)
    .await
    .expect("counts");
    assert_eq!((claims, reserved), (0, 0));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_quantity_cap_lineup_only_and_streamer_come_from_the_settings_and_flags(pool: PgPool) {
    let admin = Admin::new(&pool);
    live_sale(&admin).await;
    let input = "I'll take 5 of A1 size L\nI'll take SCF-WOOL-001\nI'll take it\n";
    let lines = parse(
        &pool,
        &["--streamer", "philia"],
        &[("MAX_CLAIM_QUANTITY", "3"), ("LIVE_LINEUP_ONLY", "true")],
        input,
    )
    .await;
    assert_eq!(
        readings(&lines),
        [
            (
                "I'll take 5 of A1 size L",
                "claim",
                json!("DNM-JKT-L"),
                json!(3)
            ),
            (
                "I'll take SCF-WOOL-001",
                "unmatched",
                Value::Null,
                Value::Null
            ),
            ("I'll take it", "claim", json!("CAP-RED-001"), json!(1)),
        ]
    );
    // Without a streamer there is no lineup and no pin; the catalog alone.
    let lines = parse(&pool, &[], &[], input).await;
    assert_eq!(
        readings(&lines),
        [
            (
                "I'll take 5 of A1 size L",
                "unmatched",
                Value::Null,
                Value::Null
            ),
            (
                "I'll take SCF-WOOL-001",
                "claim",
                json!("SCF-WOOL-001"),
                json!(1)
            ),
            ("I'll take it", "unmatched", Value::Null, Value::Null),
        ]
    );
}

#[tokio::test]
async fn claims_parse_without_a_database_fails_with_one_line() {
    let admin = Admin::with_database_url("postgres://postgres@127.0.0.1:1/shopwire");
    let run = admin.run(&["claims", "parse"]).await;
    assert!(
        run.failure()
            .contains("failed to connect to Postgres at 127.0.0.1:1/shopwire"),
        "{run:?}"
    );
}
