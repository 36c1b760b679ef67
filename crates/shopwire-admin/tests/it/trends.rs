//! `trends import|score|top` and the velocity columns of `inventory list`: the real binary
//! against this test's database, queueing on this test's Redis key prefix. That a worker
//! drains the `trends` queue and scores what it finds is a worker test; `trends score` runs
//! the same scoring here.

use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::Admin;

const SKU: &str = "VNT-NIKE-WB-001";

const FILE: &str = r##"{"hashtag":"#VintageNike","skus":["VNT-NIKE-WB-001"],"views":400000,"likes":30000,"comments":900,"shares":1200,"captured_at":"2026-11-22T01:00:00Z"}
not json at all
{"hashtag":"vintagenike","skus":["VNT-NIKE-WB-001"],"views":1400000,"likes":130000,"comments":5000,"shares":11000,"growth_rate":0,"captured_at":"2026-11-22T03:00:00Z"}

{"hashtag":"mystery","skus":["NO-SUCH-SKU"],"views":5,"captured_at":"2026-11-22T03:00:00Z"}
{"video_id":"7311982446523059488","views":90000,"likes":9000,"comments":400,"shares":700,"captured_at":"2026-11-22T02:00:00Z"}
{"views":10,"captured_at":"2026-11-22T03:00:00Z"}
"##;

/// A queue prefix of this test's own in the shared Redis.
fn prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("admin-trends-{}-{nanos}", std::process::id())
}

fn write_file(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("{}-{name}", prefix()));
    std::fs::write(&path, text).expect("temp file written");
    path
}

async fn product(admin: &Admin) {
    admin
        .json(&[
            "inventory",
            "set",
            SKU,
            "--title",
            "Vintage Nike Windbreaker",
            "--price",
            "49.99",
            "--stock",
            "3",
        ])
        .await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn imported_signals_are_queued_for_scoring_then_scored_and_ranked_by_trends_top(
    pool: PgPool,
) {
    let admin = Admin::new(&pool);
    product(&admin).await;
    let redis = shopwire_testkit::redis_url();
    let prefix = prefix();
    let env = [
        ("REDIS_URL", redis.as_str()),
        ("QUEUE_PREFIX", prefix.as_str()),
    ];
    let file = write_file("signals.jsonl", FILE);
    let path = file.to_str().expect("utf-8 path");

    let run = admin
        .run_with_env(&["trends", "import", path, "--json"], &env)
        .await;
    let summary = run.json();
    assert_eq!(summary["lines"], 6, "{run:?}");
    assert_eq!(summary["imported"], 3, "{run:?}");
    assert_eq!(summary["bad"], 3, "{run:?}");
    // Bad lines are reported by their line number in the file (blank lines count).
    let reported: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(reported.len(), 3, "{run:?}");
    assert!(reported[0].contains("line 2: expected"), "{run:?}");
    assert!(
        reported[1].ends_with("line 5: unknown SKU `NO-SUCH-SKU`"),
        "{run:?}"
    );
    assert!(
        reported[2].contains("line 7: give exactly one of"),
        "{run:?}"
    );
    let job = summary["scoring_job"]
        .as_i64()
        .expect("a scoring job was enqueued");

    // The job waits in Postgres and on this prefix's `trends` queue for a worker.
    let (status,): (String,) = sqlx::query_as("SELECT status FROM jobs WHERE id = $1")
        .bind(job)
        .fetch_one(&pool)
        .await
        .expect("the scoring job exists");
    assert_eq!(status, "queued");
    let queues = admin.run_with_env(&["queues", "--json"], &env).await.json();
    let trends = queues["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .find(|q| q["queue"] == "trends")
        .expect("the trends queue");
    assert_eq!(trends["pending"], 1, "{queues:#}");

    // Scoring now, in the CLI, scores every imported snapshot and the linked product.
    let scored = admin.json(&["trends", "score"]).await;
    assert_eq!(
        (&scored["scored"], &scored["products"]),
        (&Value::from(3), &Value::from(1)),
        "{scored:#}"
    );

    let top = admin.json(&["trends", "top", "--limit", "5"]).await;
    let signals = top["signals"].as_array().expect("signals");
    assert_eq!(signals.len(), 2, "{top:#}");
    let nike = &signals
        .iter()
        .find(|s| s["key"] == "vintagenike")
        .expect("the hashtag, normalised");
    // Growth comes from the two snapshots (250 %/h over two hours), not from the input's 0.
    assert!(
        (nike["growth_rate"].as_f64().expect("growth") - 1.25).abs() < 1e-9,
        "{nike}"
    );
    assert_eq!(nike["skus"], serde_json::json!([SKU]));
    assert_eq!(nike["scorer"], "formula");
    let scores: Vec<f64> = signals
        .iter()
        .map(|s| s["trend_score"].as_f64().expect("score"))
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "best first: {scores:?}"
    );
    assert!(
        scores.iter().all(|s| (0.0..=100.0).contains(s)),
        "{scores:?}"
    );
    let products = top["products"].as_array().expect("products");
    assert_eq!(products.len(), 1, "{top:#}");
    assert_eq!(products[0]["sku"], SKU);
    assert_eq!(products[0]["trend_score"], nike["trend_score"]);
    // No sales yet: not selling, plenty of stock.
    assert_eq!(products[0]["alert"], "high");
    assert_eq!(products[0]["hours_to_stockout"], Value::Null);

    // Importing the same file again stores nothing new and needs no scoring.
    let again = admin
        .run_with_env(&["trends", "import", path, "--json"], &env)
        .await
        .json();
    assert_eq!(
        (again["imported"].as_i64(), again["duplicates"].as_i64()),
        (Some(0), Some(3))
    );
    assert_eq!(again["scoring_job"], Value::Null);
    let _ = std::fs::remove_file(file);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_file_without_a_good_line_fails_and_says_so(pool: PgPool) {
    let admin = Admin::new(&pool);
    let file = write_file("bad.jsonl", "{}\n[1, 2]\n");
    let path = file.to_str().expect("utf-8 path");
    let run = admin.run(&["trends", "import", path]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(run.stdout, "", "{run:?}");
    let last = run.stderr.lines().last().expect("a reason");
    assert!(
        last.starts_with("shopwire-admin: no valid lines in "),
        "{run:?}"
    );
    assert!(last.ends_with("(2 bad)"), "{run:?}");
    let empty = write_file("empty.jsonl", "\n\n");
    let run = admin
        .run(&["trends", "import", empty.to_str().expect("utf-8 path")])
        .await;
    assert!(run.failure().ends_with("has no signals"), "{run:?}");
    let _ = std::fs::remove_file(file);
    let _ = std::fs::remove_file(empty);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_demo_shows_alerts_in_inventory_and_a_self_contained_chart_page(pool: PgPool) {
    let admin = Admin::new(&pool);
    admin.json(&["seed", "--demo"]).await;
    let inventory = admin.json(&["inventory", "list"]).await;
    let nike = inventory
        .as_array()
        .expect("a list")
        .iter()
        .find(|p| p["sku"] == SKU)
        .expect("the demo windbreaker");
    // 3 left, selling about one an hour: critical, and a reorder suggested.
    assert_eq!(nike["alert"], "critical", "{nike}");
    assert!(
        nike["hours_to_stockout"].as_f64().expect("an ETA") < 6.0,
        "{nike}"
    );
    assert!(
        nike["reorder_units"].as_i64().expect("reorder") > 0,
        "{nike}"
    );

    let html = std::env::temp_dir().join(format!("{}-report.html", prefix()));
    let html_path = html.to_str().expect("utf-8 path");
    let top = admin
        .json(&["trends", "top", "--limit", "3", "--html", html_path])
        .await;
    assert_eq!(top["products"].as_array().map(Vec::len), Some(3), "{top:#}");
    let page = std::fs::read_to_string(&html).expect("the page was written");
    assert!(page.starts_with("<!doctype html>"), "{page}");
    assert!(page.matches("<svg").count() >= 4, "{page}");
    for external in ["<script", "src=", "href=", "@import", "url("] {
        assert!(!page.contains(external), "{external} in {page}");
    }
    let _ = std::fs::remove_file(html);

    let human = admin.run(&["trends", "top"]).await;
    assert_eq!(human.code, Some(0), "{human:?}");
    assert!(human.stdout.starts_with("PRODUCTS\nSKU"), "{human:?}");
    assert!(human.stdout.contains("critical"), "{human:?}");
}
