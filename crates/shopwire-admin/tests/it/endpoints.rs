//! `endpoints add|list|show|disable|enable|rotate-secret|remove` (docs/contract.md §10).

use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::Admin;

const PRODUCTION: &[(&str, &str)] = &[("APP_ENV", "production")];

/// Add an endpoint; its id and the secret printed.
pub async fn add(admin: &Admin, url: &str, events: &str) -> (i64, String) {
    let added = admin
        .json(&["endpoints", "add", url, "--events", events])
        .await;
    let id = added["id"].as_i64().expect("an id");
    let secret = added["secret"].as_str().expect("the secret").to_owned();
    (id, secret)
}

/// Record an event the way the triggers do; returns its id.
pub async fn emit(pool: &PgPool, event_type: &str, key: &str) -> i64 {
    let (id,): (Option<i64>,) =
        sqlx::query_as("SELECT emit_event($1, $2, 'claim:1', NULL, NULL, '{}')")
            .bind(event_type)
            .bind(key)
            .fetch_one(pool)
            .await
            .expect("emit_event");
    id.expect("a new event")
}

/// The endpoints that got a delivery of `event`, by id.
pub async fn delivered_to(pool: &PgPool, event: i64) -> Vec<i64> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT endpoint_id FROM outbound_deliveries WHERE event_id = $1 ORDER BY endpoint_id",
    )
    .bind(event)
    .fetch_all(pool)
    .await
    .expect("deliveries");
    rows.into_iter().map(|(id,)| id).collect()
}

async fn stored_secrets(pool: &PgPool, id: i64) -> (String, Option<String>, Option<f64>) {
    sqlx::query_as(
        "SELECT secret, previous_secret,
                extract(epoch FROM previous_secret_expires_at - now())::float8
           FROM endpoints WHERE id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .expect("endpoint row")
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn adding_prints_the_secret_once_and_list_and_show_never_do(pool: PgPool) {
    let admin = Admin::new(&pool);
    let added = admin
        .json(&[
            "endpoints",
            "add",
            "https://hooks.example.com/shopwire",
            "--description",
            "CRM",
        ])
        .await;
    let id = added["id"].as_i64().expect("id");
    let secret = added["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("whsec_") && secret.len() > 30, "{added}");
    assert_eq!(added["url"], "https://hooks.example.com/shopwire");
    assert_eq!(added["event_types"], serde_json::json!(["*"]));
    assert_eq!(added["state"], "enabled");
    assert_eq!(added["description"], "CRM");
    assert_eq!(stored_secrets(&pool, id).await.0, secret);

    let human = admin
        .run(&["endpoints", "add", "https://other.example.com/"])
        .await;
    assert_eq!(human.code, Some(0), "{human:?}");
    assert!(human.stdout.contains("secret: whsec_"), "{human:?}");
    assert!(human.stdout.contains("only time"), "{human:?}");

    for args in [
        &["endpoints", "list"][..],
        &["endpoints", "list", "--json"],
        &["endpoints", "list", "--all", "--json"],
        &["endpoints", "show", &id.to_string()],
        &["endpoints", "show", &id.to_string(), "--json"],
    ] {
        let run = admin.run(args).await;
        assert_eq!(run.code, Some(0), "{run:?}");
        assert!(!run.stdout.contains(&secret), "{args:?} printed the secret");
        assert!(!run.stdout.contains("whsec_"), "{args:?} printed a secret");
    }
    let list = admin.json(&["endpoints", "list"]).await;
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    assert_eq!(list[0]["id"], id);
    assert!(list[0].get("secret").is_none(), "{list}");
    let shown = admin.json(&["endpoints", "show", &id.to_string()]).await;
    assert_eq!(shown["url"], "https://hooks.example.com/shopwire");
    assert_eq!(shown["recent_attempts"], serde_json::json!([]));
    assert_eq!(
        admin.run(&["endpoints", "show", "999"]).await.failure(),
        "no endpoint 999"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_unknown_event_type_is_refused_naming_it(pool: PgPool) {
    let admin = Admin::new(&pool);
    let run = admin
        .run(&[
            "endpoints",
            "add",
            "https://hooks.example.com/",
            "--events",
            "claim.sold_out,claim.bogus",
        ])
        .await;
    let line = run.failure();
    assert!(line.contains("unknown event type `claim.bogus`"), "{line}");
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM endpoints")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(count, 0);

    let (id, _) = add(
        &admin,
        "https://hooks.example.com/",
        "order.paid, claim.sold_out",
    )
    .await;
    let shown = admin.json(&["endpoints", "show", &id.to_string()]).await;
    assert_eq!(
        shown["event_types"],
        serde_json::json!(["claim.sold_out", "order.paid"])
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn production_refuses_http_and_private_hosts_and_accepts_public_https(pool: PgPool) {
    let admin = Admin::new(&pool);
    let http = admin
        .run_with_env(
            &["endpoints", "add", "http://hooks.example.com/"],
            PRODUCTION,
        )
        .await;
    assert_eq!(
        http.failure(),
        "only https URLs are accepted when APP_ENV=production"
    );
    for (url, host) in [
        ("https://127.0.0.1/hook", "127.0.0.1"),
        ("https://10.1.2.3/", "10.1.2.3"),
        (
            "https://169.254.169.254/latest/meta-data",
            "169.254.169.254",
        ),
        ("https://[::1]:8443/", "[::1]"),
        ("https://[::ffff:127.0.0.1]/", "[::ffff:7f00:1]"),
        ("https://100.64.0.1/", "100.64.0.1"),
        ("https://localhost/", "localhost"),
    ] {
        let run = admin
            .run_with_env(&["endpoints", "add", url], PRODUCTION)
            .await;
        let line = run.failure();
        assert!(line.starts_with(&format!("`{host}` is ")), "{url}: {line}");
        assert!(
            line.contains("OUTBOUND_ALLOW_PRIVATE=true"),
            "{url}: {line}"
        );
    }
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM endpoints")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(count, 0, "nothing refused was stored");

    let public = admin
        .run_with_env(
            &["endpoints", "add", "https://hooks.example.com/x", "--json"],
            PRODUCTION,
        )
        .await
        .json();
    assert_eq!(public["url"], "https://hooks.example.com/x");
    let opted_in = admin
        .run_with_env(
            &["endpoints", "add", "https://10.1.2.3/", "--json"],
            &[
                ("APP_ENV", "production"),
                ("OUTBOUND_ALLOW_PRIVATE", "true"),
            ],
        )
        .await
        .json();
    assert_eq!(opted_in["url"], "https://10.1.2.3/");
    let dev = admin
        .json(&["endpoints", "add", "http://127.0.0.1:9000/hook"])
        .await;
    assert_eq!(dev["url"], "http://127.0.0.1:9000/hook");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn rotating_keeps_the_old_secret_signing_for_24_hours(pool: PgPool) {
    let admin = Admin::new(&pool);
    let (id, old) = add(&admin, "https://hooks.example.com/", "*").await;
    let rotated = admin
        .json(&["endpoints", "rotate-secret", &id.to_string()])
        .await;
    let new = rotated["secret"].as_str().expect("the new secret");
    assert!(new.starts_with("whsec_"));
    assert_ne!(new, old);

    let (secret, previous, expires_in) = stored_secrets(&pool, id).await;
    assert_eq!(secret, new);
    assert_eq!(previous.as_deref(), Some(old.as_str()));
    let hours = expires_in.expect("an expiry") / 3600.0;
    assert!((23.9..=24.0).contains(&hours), "{hours} h");

    let shown = admin.json(&["endpoints", "show", &id.to_string()]).await;
    assert!(shown["previous_secret_expires_at"].is_string(), "{shown}");
    let text = shown.to_string();
    assert!(!text.contains(new) && !text.contains(&old), "{text}");
    let human = admin
        .run(&["endpoints", "rotate-secret", &id.to_string()])
        .await;
    assert_eq!(human.code, Some(0), "{human:?}");
    assert!(human.stdout.contains("new secret whsec_"), "{human:?}");
    assert!(human.stdout.contains("keeps signing until"), "{human:?}");
    let (_, previous, _) = stored_secrets(&pool, id).await;
    assert_eq!(
        previous.as_deref(),
        Some(new),
        "a second rotation keeps the newer one"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_disabled_endpoint_gets_no_new_deliveries_until_enabled(pool: PgPool) {
    let admin = Admin::new(&pool);
    let (a, _) = add(&admin, "https://a.example.com/", "*").await;
    let (b, _) = add(&admin, "https://b.example.com/", "*").await;
    let disabled = admin
        .json(&[
            "endpoints",
            "disable",
            &a.to_string(),
            "--reason",
            "maintenance",
        ])
        .await;
    assert_eq!(disabled["state"], "disabled");
    assert_eq!(disabled["disabled_reason"], "maintenance");
    assert_eq!(disabled["changed"], true);
    let again = admin.run(&["endpoints", "disable", &a.to_string()]).await;
    assert_eq!(again.stdout, format!("endpoint {a} was already disabled\n"));

    let first = emit(&pool, "claim.sold_out", "k1").await;
    assert_eq!(delivered_to(&pool, first).await, [b]);

    let enabled = admin.json(&["endpoints", "enable", &a.to_string()]).await;
    assert_eq!(enabled["state"], "enabled");
    assert_eq!(enabled["disabled_reason"], Value::Null);
    let second = emit(&pool, "claim.sold_out", "k2").await;
    assert_eq!(delivered_to(&pool, second).await, [a, b]);
    assert_eq!(
        admin.run(&["endpoints", "disable", "999"]).await.failure(),
        "no endpoint 999"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_endpoint_subscribed_to_claim_events_gets_only_those(pool: PgPool) {
    let admin = Admin::new(&pool);
    let (claims, _) = add(&admin, "https://claims.example.com/", "claim.*").await;
    let (paid, _) = add(&admin, "https://paid.example.com/", "order.paid").await;
    let listed = admin.json(&["endpoints", "list"]).await;
    let types = listed[0]["event_types"].as_array().expect("types");
    assert_eq!(types.len(), 6, "{listed}");
    assert!(
        types
            .iter()
            .all(|t| t.as_str().is_some_and(|t| t.starts_with("claim.")))
    );

    let sold_out = emit(&pool, "claim.sold_out", "claim:1:sold_out").await;
    let waitlisted = emit(&pool, "claim.waitlisted", "claim:2:waitlisted").await;
    let order_paid = emit(&pool, "order.paid", "order:1:paid").await;
    let alert = emit(&pool, "stock.alert", "stock:1").await;
    assert_eq!(delivered_to(&pool, sold_out).await, [claims]);
    assert_eq!(delivered_to(&pool, waitlisted).await, [claims]);
    assert_eq!(delivered_to(&pool, order_paid).await, [paid]);
    assert_eq!(delivered_to(&pool, alert).await, Vec::<i64>::new());
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn removing_needs_yes_and_ends_new_deliveries_for_good(pool: PgPool) {
    let admin = Admin::new(&pool);
    let (id, _) = add(&admin, "https://hooks.example.com/", "*").await;
    let pending = emit(&pool, "claim.sold_out", "k1").await;
    assert_eq!(delivered_to(&pool, pending).await, [id]);

    let refused = admin.run(&["endpoints", "remove", &id.to_string()]).await;
    assert!(refused.failure().contains("without --yes"), "{refused:?}");
    let removed = admin
        .json(&["endpoints", "remove", &id.to_string(), "--yes"])
        .await;
    assert_eq!(removed["state"], "removed");
    assert_eq!(removed["pending_deliveries"], 1);

    assert_eq!(
        admin.json(&["endpoints", "list"]).await,
        serde_json::json!([])
    );
    let all = admin.json(&["endpoints", "list", "--all"]).await;
    assert_eq!(all[0]["state"], "removed");
    let later = emit(&pool, "claim.sold_out", "k2").await;
    assert_eq!(delivered_to(&pool, later).await, Vec::<i64>::new());
    for verb in ["enable", "disable", "rotate-secret"] {
        let run = admin.run(&["endpoints", verb, &id.to_string()]).await;
        assert_eq!(
            run.failure(),
            format!("endpoint {id} was removed"),
            "{verb}"
        );
    }
    let twice = admin
        .run(&["endpoints", "remove", &id.to_string(), "--yes"])
        .await;
    assert_eq!(twice.failure(), format!("endpoint {id} was removed"));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn show_lists_the_most_recent_attempts_first(pool: PgPool) {
    let admin = Admin::new(&pool);
    let (id, _) = add(&admin, "https://hooks.example.com/", "*").await;
    let event = emit(&pool, "order.paid", "order:1:paid").await;
    let (delivery,): (i64,) =
        sqlx::query_as("SELECT id FROM outbound_deliveries WHERE event_id = $1")
            .bind(event)
            .fetch_one(&pool)
            .await
            .expect("delivery");
    sqlx::query(
        "INSERT INTO outbound_attempts (delivery_id, attempt, status_code, error, duration_ms, attempted_at)
         VALUES ($1, 1, 500, 'server error', 120, now() - interval '1 minute'),
                ($1, 2, 200, NULL, 80, now())",
    )
    .bind(delivery)
    .execute(&pool)
    .await
    .expect("attempts");
    sqlx::query("UPDATE outbound_deliveries SET status = 'processed', attempts = 2 WHERE id = $1")
        .bind(delivery)
        .execute(&pool)
        .await
        .expect("processed");

    let shown = admin
        .json(&["endpoints", "show", &id.to_string(), "--attempts", "5"])
        .await;
    let attempts = shown["recent_attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["attempt"], 2);
    assert_eq!(attempts[0]["status_code"], 200);
    assert_eq!(attempts[0]["event_type"], "order.paid");
    assert_eq!(attempts[0]["delivery_id"], delivery);
    assert_eq!(attempts[1]["error"], "server error");
    assert_eq!(shown["deliveries"], serde_json::json!({"processed": 1}));
    let human = admin.run(&["endpoints", "show", &id.to_string()]).await;
    assert!(human.stdout.contains("recent attempts:"), "{human:?}");
    assert!(human.stdout.contains("server error"), "{human:?}");
    assert!(human.stdout.contains("processed 1"), "{human:?}");
}
