use chrono::{TimeZone, Utc};
use serde_json::json;
use shopwire_core::trends::Snapshot;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

fn input() -> ScoreInput {
    let at = |h: u32| {
        Utc.with_ymd_and_hms(2026, 11, 22, h, 0, 0)
            .single()
            .expect("valid time")
    };
    ScoreInput {
        latest: Snapshot {
            captured_at: at(2),
            views: 300_000,
            likes: 30_000,
            comments: 1_000,
            shares: 2_000,
        },
        previous: Some(Snapshot {
            captured_at: at(0),
            views: 200_000,
            likes: 0,
            comments: 0,
            shares: 0,
        }),
        now: at(2),
    }
}

fn scorer(provider: LlmProvider, server: &MockServer) -> LlmTrendScorer {
    LlmTrendScorer::new(provider, &server.uri(), SecretString::from("test-key"))
        .expect("client builds")
        .with_timeout(Duration::from_millis(300))
}

fn anthropic_answer(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "type": "message",
        "content": [{ "type": "text", "text": text }],
    }))
}

#[tokio::test]
async fn llm_scores_are_clamped_and_keep_their_reasoning() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", "test-key"))
        // The seed's prompt shape, with growth computed from the two snapshots.
        .and(body_string_contains("Views: 300000"))
        .and(body_string_contains("Growth rate: 25.0% per hour"))
        .and(body_string_contains("Hashtag: y2kfashion"))
        .respond_with(anthropic_answer(
            "```json\n{\"trend_score\": 130, \"urgency_score\": 71.26, \"reasoning\": \"Fast\\ngrowth, strong shares.\"}\n```",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let (scored, scorer_name) = scorer(LlmProvider::Anthropic, &server)
        .score("Hashtag: y2kfashion", &input())
        .await;
    assert_eq!(scorer_name, "anthropic");
    assert_eq!((scored.trend_score, scored.urgency_score), (100.0, 71.3));
    assert_eq!(scored.reasoning, "Fast growth, strong shares.");
    assert!((scored.growth_rate - 0.25).abs() < 1e-9);
}

#[tokio::test]
async fn a_failing_llm_falls_back_to_the_formula() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let (scored, scorer_name) = scorer(LlmProvider::OpenAi, &server)
        .score("Hashtag: y2kfashion", &input())
        .await;
    assert_eq!(scorer_name, "formula");
    assert_eq!(scored, score(&input()));
    // Transient failures were retried before giving up.
    let calls = server.received_requests().await.map_or(0, |r| r.len());
    assert_eq!(calls, 1 + LlmChat::RETRIES);
}

#[tokio::test]
async fn an_answer_without_scores_falls_back_to_the_formula() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(anthropic_answer("{\"trend_score\": \"very high\"}"))
        .mount(&server)
        .await;
    let (scored, scorer_name) = scorer(LlmProvider::Anthropic, &server)
        .score("Video: 7312", &input())
        .await;
    assert_eq!(scorer_name, "formula");
    assert_eq!(scored, score(&input()));
}

#[test]
fn answers_must_carry_finite_scores_and_reasoning() {
    assert!(parse_answer("{\"trend_score\": 1, \"urgency_score\": 2}").is_err());
    assert!(parse_answer("no json here").is_err());
    assert_eq!(
        parse_answer("{\"trend_score\": -5, \"urgency_score\": 50, \"reasoning\": \"ok\"}")
            .expect("parses"),
        (0.0, 50.0, "ok".to_owned())
    );
}
