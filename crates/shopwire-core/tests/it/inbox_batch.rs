//! Recording many deliveries in one statement: every delivery gets its own answer, in the
//! batch's order, and concurrent batches over the same keys neither duplicate nor deadlock.

use shopwire_core::db::inbox::{self, NewDelivery, Recorded};
use shopwire_core::domain::{Delivery, Provider};
use sqlx::PgPool;

use crate::helpers::{BODY, delivery, record_new};

fn batch_of<'a>(deliveries: &'a [(Provider, Delivery)]) -> Vec<NewDelivery<'a>> {
    deliveries
        .iter()
        .map(|(provider, delivery)| NewDelivery {
            provider: *provider,
            delivery,
            body: BODY,
        })
        .collect()
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_batch_answers_new_duplicate_and_repeated_keys_in_its_own_order(pool: PgPool) {
    let earlier = record_new(&pool, "evt_earlier").await;
    let deliveries = [
        (Provider::Stripe, delivery("evt_b")),
        (Provider::Stripe, delivery("evt_earlier")),
        (Provider::Stripe, delivery("evt_a")),
        (Provider::Comments, delivery("evt_a")),
        (Provider::Stripe, delivery("evt_b")),
    ];

    let answers = inbox::record_batch(&pool, &batch_of(&deliveries))
        .await
        .expect("the batch records");

    let [b, dup_earlier, a, comment_a, b_again] = answers[..] else {
        panic!("one answer per delivery: {answers:?}")
    };
    assert!(matches!(b, Recorded::New(_)), "{answers:?}");
    assert_eq!(dup_earlier, Recorded::Duplicate(earlier));
    assert!(matches!(a, Recorded::New(_)), "{answers:?}");
    assert!(
        matches!(comment_a, Recorded::New(id) if id != a.id()),
        "the same key from another provider is another delivery: {answers:?}"
    );
    assert_eq!(
        b_again,
        Recorded::Duplicate(b.id()),
        "a repeat inside the batch"
    );
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox")
        .fetch_one(&pool)
        .await
        .expect("count works");
    assert_eq!(rows, 4, "earlier + b + a + comments a");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn racing_batches_over_the_same_keys_in_opposite_orders_make_each_row_once(pool: PgPool) {
    // Big enough that the batches overlap in time: unsorted, they would deadlock.
    const KEYS: usize = 3000;
    let keys: Vec<String> = (0..KEYS).map(|i| format!("evt_{i:04}")).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for round in 0..8 {
        let pool = pool.clone();
        let mut keys = keys.clone();
        if round % 2 == 1 {
            keys.reverse();
        }
        tasks.spawn(async move {
            let deliveries: Vec<(Provider, Delivery)> = keys
                .iter()
                .map(|k| (Provider::Stripe, delivery(k)))
                .collect();
            inbox::record_batch(&pool, &batch_of(&deliveries)).await
        });
    }

    let mut new = 0;
    let mut ids = std::collections::BTreeSet::new();
    while let Some(joined) = tasks.join_next().await {
        let answers = joined
            .expect("task ran")
            .expect("no batch fails or deadlocks");
        assert_eq!(answers.len(), KEYS);
        new += answers
            .iter()
            .filter(|a| matches!(a, Recorded::New(_)))
            .count();
        ids.extend(answers.iter().map(|a| a.id()));
    }
    assert_eq!(new, KEYS, "each key is new exactly once across all batches");
    assert_eq!(ids.len(), KEYS, "every copy of a key got the same id");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_batch_keeps_each_body_and_event_type(pool: PgPool) {
    let first = Delivery {
        dedupe_key: "evt_1".to_owned(),
        event_type: "checkout.session.completed".to_owned(),
    };
    let second = delivery("evt_2");
    let batch = [
        NewDelivery {
            provider: Provider::Stripe,
            delivery: &first,
            body: b"first body",
        },
        NewDelivery {
            provider: Provider::Stripe,
            delivery: &second,
            body: b"second body",
        },
    ];

    let answers = inbox::record_batch(&pool, &batch).await.expect("records");

    let first_row = inbox::get(&pool, answers[0].id()).await.unwrap().unwrap();
    assert_eq!(
        first_row.event_type.as_deref(),
        Some("checkout.session.completed")
    );
    let bodies = (
        inbox::body(&pool, answers[0].id()).await.unwrap(),
        inbox::body(&pool, answers[1].id()).await.unwrap(),
    );
    assert_eq!(
        bodies,
        (Some(b"first body".to_vec()), Some(b"second body".to_vec()))
    );
}
