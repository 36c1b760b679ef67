//! `inbox purge`, and what `events show` and `events replay` say of a purged delivery.

use serde_json::json;
use shopwire_core::db::inbox::{self, Recorded};
use shopwire_core::domain::{Delivery, Provider};
use sqlx::PgPool;

use crate::helpers::Admin;

const BODY: &[u8] = br#"{"client":"viewer_1","comment":"I want A1 size M"}"#;

/// A comment delivery in `status` that settled (or was received, unsettled) `days` ago,
/// with the message it caused; its inbox id.
async fn delivery(pool: &PgPool, key: &str, status: &str, days: i32) -> i64 {
    let delivery = Delivery {
        dedupe_key: key.to_owned(),
        event_type: "comment".to_owned(),
    };
    let Recorded::New(id) = inbox::record(pool, Provider::Comments, &delivery, BODY)
        .await
        .expect("records")
    else {
        panic!("{key} is new")
    };
    sqlx::query(
        "UPDATE inbox SET status = $2, received_at = now() - make_interval(days => $3 + 1),
                          processed_at = CASE WHEN $2 IN ('processed', 'ignored')
                                              THEN now() - make_interval(days => $3) END
          WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(days)
    .execute(pool)
    .await
    .expect("aged");
    sqlx::query(
        "INSERT INTO messages (inbox_id, channel, streamer, buyer, text, sent_at, intent, intent_score)
         VALUES ($1, 'comment', 'shop', 'viewer_1', 'I want A1 size M', now(), 'buy', 0.9)",
    )
    .bind(id)
    .execute(pool)
    .await
    .expect("message");
    id.get()
}

/// (body length, purged, message text, intent) of a delivery.
async fn state(pool: &PgPool, id: i64) -> (i32, bool, String, Option<String>) {
    sqlx::query_as(
        "SELECT length(i.body), i.body_purged_at IS NOT NULL, m.text, m.intent
           FROM inbox i JOIN messages m ON m.inbox_id = i.id WHERE i.id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .expect("row")
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn purge_erases_old_settled_bodies_and_texts_and_never_unsettled_ones(pool: PgPool) {
    let admin = Admin::new(&pool);
    let processed = delivery(&pool, "c-processed", "processed", 40).await;
    let ignored = delivery(&pool, "c-ignored", "ignored", 40).await;
    let rejected = delivery(&pool, "c-rejected", "rejected", 40).await;
    let recent = delivery(&pool, "c-recent", "processed", 5).await;
    let mut unsettled = vec![recent];
    for status in ["queued", "processing", "failed", "dead"] {
        unsettled.push(delivery(&pool, &format!("c-{status}"), status, 40).await);
    }

    let refused = admin
        .run(&["inbox", "purge", "--processed-older-than", "30d"])
        .await;
    assert_eq!(
        refused.failure(),
        "refusing to purge without --yes (it would erase the bodies of 3 deliveries settled more than 30d ago)"
    );
    assert_eq!(
        state(&pool, processed).await.0,
        BODY.len() as i32,
        "nothing changed"
    );

    let report = admin
        .json(&["inbox", "purge", "--processed-older-than", "30d", "--yes"])
        .await;
    assert_eq!(
        report,
        json!({"processed_older_than": "30d", "purged": 3, "messages": 3})
    );
    for id in [processed, ignored, rejected] {
        let (len, purged, text, intent) = state(&pool, id).await;
        assert_eq!((len, purged, text.as_str()), (0, true, ""), "inbox {id}");
        assert_eq!(intent.as_deref(), Some("buy"), "the intent stays");
    }
    for id in unsettled {
        let (len, purged, text, _) = state(&pool, id).await;
        assert_eq!(len, BODY.len() as i32, "inbox {id} keeps its body");
        assert!(!purged && !text.is_empty(), "inbox {id} is untouched");
    }

    let human = admin
        .run(&["inbox", "purge", "--processed-older-than", "30d", "--yes"])
        .await;
    assert_eq!(human.code, Some(0), "{human:?}");
    assert_eq!(
        human.stdout,
        "purged the bodies of 0 deliveries settled more than 30d ago (0 message texts cleared)\n"
    );
    let bad = admin
        .run(&["inbox", "purge", "--processed-older-than", "3y", "--yes"])
        .await;
    assert!(bad.failure().contains("`3y` is not an age"), "{bad:?}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_purged_delivery_is_shown_as_purged_and_never_replayed(pool: PgPool) {
    let admin = Admin::new(&pool);
    let id = delivery(&pool, "c-old", "processed", 40).await;
    admin
        .json(&["inbox", "purge", "--processed-older-than", "30d", "--yes"])
        .await;
    let id_arg = id.to_string();

    let shown = admin.json(&["events", "show", &id_arg]).await;
    assert_eq!(shown["body"], json!(null), "{shown}");
    assert_eq!(shown["body_bytes"], 0);
    assert!(shown["body_purged_at"].is_string(), "{shown}");
    let human = admin.run(&["events", "show", &id_arg]).await;
    assert!(human.stdout.contains("\nBODY purged at "), "{human:?}");

    let replay = admin.run(&["events", "replay", &id_arg]).await;
    let line = replay.failure();
    assert!(
        line.starts_with(&format!(
            "inbox event {id} cannot be replayed: its body was purged at "
        )),
        "{line}"
    );
    let recent = admin
        .json(&["events", "replay", "--since", "60d", "--dry-run"])
        .await;
    let items = recent["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    assert!(
        items
            .iter()
            .any(|i| i["inbox_id"] == json!(id) && i["detail"] == "its body was purged"),
        "{recent}"
    );
    let (status,): (String,) = sqlx::query_as("SELECT status FROM inbox WHERE id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .expect("row");
    assert_eq!(status, "processed", "nothing was requeued");
}
