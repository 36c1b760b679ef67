//! Hostile input smoke: a bounded burst of junk never earns a 5xx, and the server keeps serving.

use futures::future::join_all;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shopwire_core::domain::Provider;
use sqlx::PgPool;

use crate::helpers::{TestApp, fixture, route, spawn_app, unix_now};

/// One hostile request: where it goes, its headers and its body.
struct Attack {
    what: &'static str,
    /// Signed correctly: the signature passes and the parser decides (200 or 400); an
    /// unsigned attack must stop at the signature (401).
    signed: bool,
    path: String,
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Vec<u8>,
}

impl Attack {
    fn new(
        what: &'static str,
        provider: Provider,
        headers: Vec<(&'static str, Vec<u8>)>,
        body: Vec<u8>,
    ) -> Self {
        Attack {
            what,
            signed: false,
            path: route(provider),
            headers,
            body,
        }
    }

    /// Signed correctly for `provider`, so it gets past verification to the parser.
    fn signed(
        app: &TestApp,
        what: &'static str,
        provider: Provider,
        mut extra: Vec<(&'static str, Vec<u8>)>,
        body: Vec<u8>,
    ) -> Self {
        let (name, value) = app.sign_at(provider, &body, unix_now());
        extra.push((name, value.into_bytes()));
        Attack {
            signed: true,
            ..Attack::new(what, provider, extra, body)
        }
    }
}

fn any_provider(rng: &mut StdRng) -> Provider {
    Provider::ALL[rng.random_range(0..Provider::ALL.len())]
}

fn random_bytes(rng: &mut StdRng, max: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; rng.random_range(0..=max)];
    rng.fill(&mut bytes[..]);
    bytes
}

/// Bytes a header value may carry (visible ASCII, space, tab and obs-text).
fn random_header_value(rng: &mut StdRng, max: usize) -> Vec<u8> {
    random_bytes(rng, max)
        .into_iter()
        .map(|b| {
            if b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80 {
                b
            } else {
                b'a'
            }
        })
        .collect()
}

fn attacks(app: &TestApp, rng: &mut StdRng) -> Vec<Attack> {
    let mut attacks = Vec::new();
    let now = unix_now();
    for _ in 0..80 {
        let provider = any_provider(rng);
        let headers = match rng.random_range(0..3) {
            0 => vec![],
            1 => vec![(
                app.sign_at(provider, b"", now).0,
                random_header_value(rng, 200),
            )],
            _ => vec![(
                "Stripe-Signature",
                format!("t={now},v1={}", "0".repeat(64)).into_bytes(),
            )],
        };
        attacks.push(Attack::new(
            "random bytes",
            provider,
            headers,
            random_bytes(rng, 4096),
        ));
    }
    for _ in 0..40 {
        let provider = any_provider(rng);
        attacks.push(Attack::signed(
            app,
            "signed random bytes",
            provider,
            vec![],
            random_bytes(rng, 4096),
        ));
    }
    for i in 0..20 {
        let sig = format!(
            "t={now},{}",
            (0..300)
                .map(|_| format!("v1={:064x}", i))
                .collect::<Vec<_>>()
                .join(",")
        );
        let huge = match i % 2 {
            0 => sig.into_bytes()[..16 * 1024].to_vec(),
            _ => random_header_value(rng, 16 * 1024),
        };
        let body = fixture("stripe/charge.refunded.json");
        attacks.push(Attack::new(
            "16 KiB signature header",
            Provider::Stripe,
            vec![("Stripe-Signature", huge)],
            body,
        ));
    }
    for depth in [64, 127, 128, 129, 500, 1_000, 10_000, 100_000] {
        for provider in Provider::ALL {
            let body = format!(
                r#"{{"id":"evt_deep_{depth}","type":"x","event":"im_x","tts_notification_id":"{depth}","nested":{}1{}}}"#,
                "[".repeat(depth),
                "]".repeat(depth)
            );
            attacks.push(Attack::signed(
                app,
                "deeply nested JSON",
                provider,
                vec![],
                body.into_bytes(),
            ));
        }
    }
    let big = "18446744073709551616";
    let huge = "9".repeat(400);
    for number in [
        big,
        huge.as_str(),
        "1e400",
        "-1e400",
        "-18446744073709551617",
    ] {
        let bodies = [
            (
                Provider::Stripe,
                format!(
                    r#"{{"id":"evt_n_{}","type":"x","amount":{number}}}"#,
                    number.len()
                ),
            ),
            (Provider::Stripe, format!(r#"{{"id":{number},"type":"x"}}"#)),
            (
                Provider::TiktokShop,
                format!(r#"{{"type":{number},"tts_notification_id":"n"}}"#),
            ),
            (
                Provider::TiktokShop,
                format!(r#"{{"type":1,"tts_notification_id":{number}}}"#),
            ),
            (
                Provider::Tiktok,
                format!(r#"{{"event":"im_receive_msg","content":{{"message_id":{number}}}}}"#),
            ),
            (
                Provider::Comments,
                format!(
                    r#"{{"comment_id":{number},"streamer":"s","client":"c","message":"m","timestamp":"2026-11-22T10:00:00Z"}}"#
                ),
            ),
        ];
        for (provider, body) in bodies {
            attacks.push(Attack::signed(
                app,
                "numbers beyond 2^64",
                provider,
                vec![],
                body.into_bytes(),
            ));
        }
    }
    let content_types: [&[u8]; 7] = [
        b"text/plain",
        b"application/x-www-form-urlencoded",
        b"multipart/form-data; boundary=xyz",
        b"application/json; charset=utf-16",
        b"application/xml",
        b"",
        b"\xff\xfe",
    ];
    for (i, content_type) in content_types.into_iter().enumerate() {
        let body = format!(r#"{{"id":"evt_ct_{i}","type":"x"}}"#).into_bytes();
        let headers = vec![("Content-Type", content_type.to_vec())];
        attacks.push(Attack::signed(
            app,
            "wrong content type",
            Provider::Stripe,
            headers,
            body,
        ));
    }
    attacks
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn hostile_input_never_gets_a_5xx_and_the_server_keeps_serving(pool: PgPool) {
    let app = spawn_app(pool).await;
    let seed: u64 = rand::random();
    let mut rng = StdRng::seed_from_u64(seed);
    let attacks = attacks(&app, &mut rng);
    assert!(attacks.len() >= 200, "{} requests", attacks.len());

    let app = &app;
    for batch in attacks.chunks(25) {
        let answers = join_all(batch.iter().map(|attack| async move {
            let headers: Vec<(&str, &[u8])> = attack
                .headers
                .iter()
                .map(|(n, v)| (*n, v.as_slice()))
                .collect();
            let response = app
                .post_raw(&attack.path, &headers, attack.body.clone())
                .await;
            (
                attack,
                response.status(),
                response.text().await.unwrap_or_default(),
            )
        }))
        .await;
        for (attack, status, text) in answers {
            assert!(
                status.is_client_error() || status.is_success(),
                "seed {seed}: {} on {} answered {status}: {text}",
                attack.what,
                attack.path
            );
            let expected: &[u16] = if attack.signed { &[200, 400] } else { &[401] };
            assert!(
                expected.contains(&status.as_u16()),
                "seed {seed}: {} on {} answered {status}, expected one of {expected:?}: {text}",
                attack.what,
                attack.path
            );
            assert!(
                text.starts_with('{'),
                "seed {seed}: {} answered a non-JSON body: {text}",
                attack.what
            );
        }
    }

    let health = app.get("/health").await;
    assert_eq!(
        health.status(),
        200,
        "the server still serves after the burst (seed {seed})"
    );
    // Junk with a valid signature is kept as rejected, never as queued work with a bad key.
    let rows = app.inbox_rows().await;
    assert!(
        rows.iter()
            .all(|r| r.status == "queued" || r.status == "rejected")
    );
}
