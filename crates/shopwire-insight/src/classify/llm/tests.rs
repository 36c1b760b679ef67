use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::llm::ANTHROPIC_VERSION;

fn classifier(provider: LlmProvider, server: &MockServer) -> LlmClassifier {
    LlmClassifier::new(provider, &server.uri(), SecretString::from("test-key"))
        .expect("client builds")
        .with_timeout(Duration::from_millis(300))
}

fn openai_answer(content: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": content } }],
    }))
}

fn anthropic_answer(content: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "content": [{ "type": "text", "text": content }],
    }))
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test]
async fn openai_style_answers_are_used() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", "Bearer test-key"))
        .and(body_partial_json(json!({
            "model": "gpt-4o-mini",
            "messages": [{ "role": "system" }, { "role": "user", "content": "mine!!" }],
        })))
        .respond_with(openai_answer(r#"{"intent": "buy", "score": 0.93}"#))
        .expect(1)
        .mount(&server)
        .await;
    let c = classifier(LlmProvider::OpenAi, &server)
        .classify("mine!!")
        .await;
    assert_eq!(
        (c.intent, c.score, c.classifier),
        (Intent::Buy, 0.93, "openai")
    );
}

#[tokio::test]
async fn anthropic_style_answers_are_used() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", "test-key"))
        .and(header("anthropic-version", ANTHROPIC_VERSION))
        .and(body_partial_json(json!({
            "messages": [{ "role": "user", "content": "¿tienes talla M?" }],
        })))
        .respond_with(anthropic_answer(
            "```json\n{\"intent\": \"question\", \"score\": 0.8}\n```",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let c = classifier(LlmProvider::Anthropic, &server)
        .classify("¿tienes talla M?")
        .await;
    assert_eq!(
        (c.intent, c.score, c.classifier),
        (Intent::Question, 0.8, "anthropic")
    );
}

#[tokio::test]
async fn a_server_error_is_retried_and_the_second_answer_used() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(openai_answer(r#"{"intent": "complaint", "score": 0.7}"#))
        .mount(&server)
        .await;
    let c = classifier(LlmProvider::OpenAi, &server)
        .classify("where is my order")
        .await;
    assert_eq!((c.intent, c.classifier), (Intent::Complaint, "openai"));
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn a_timeout_falls_back_to_the_rules_after_two_retries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            openai_answer(r#"{"intent": "other", "score": 0.9}"#).set_delay(Duration::from_secs(2)),
        )
        .mount(&server)
        .await;
    let c = classifier(LlmProvider::OpenAi, &server)
        .classify("I'll take 2")
        .await;
    assert_eq!((c.intent, c.classifier), (Intent::Buy, "rules-fallback"));
    assert_eq!(requests(&server).await, 1 + LlmClassifier::RETRIES);
}

#[tokio::test]
async fn garbage_answers_fall_back_to_the_rules_without_retrying() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(anthropic_answer("Sure! This looks like a purchase to me."))
        .mount(&server)
        .await;
    let c = classifier(LlmProvider::Anthropic, &server)
        .classify("lo quiero")
        .await;
    assert_eq!((c.intent, c.classifier), (Intent::Buy, "rules-fallback"));
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn a_body_that_is_not_json_falls_back_to_the_rules() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>oops</html>"))
        .mount(&server)
        .await;
    let c = classifier(LlmProvider::OpenAi, &server)
        .classify("how much?")
        .await;
    assert_eq!(
        (c.intent, c.classifier),
        (Intent::Question, "rules-fallback")
    );
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let c = classifier(LlmProvider::OpenAi, &server)
        .classify("so cute 😍")
        .await;
    assert_eq!(c.classifier, "rules-fallback");
    assert_eq!(requests(&server).await, 1);
}

#[test]
fn answers_are_parsed_strictly_and_scores_clamped() {
    assert_eq!(
        parse_answer(r#"{"intent":"Feedback","score":1.7}"#).expect("parses"),
        (Intent::Feedback, 1.0)
    );
    assert!(parse_answer(r#"{"intent":"purchase","score":0.9}"#).is_err());
    assert!(parse_answer(r#"{"intent":"buy"}"#).is_err());
    assert!(parse_answer("buy").is_err());
}

#[test]
fn only_timeouts_server_errors_and_rate_limits_are_transient() {
    assert!(LlmError::Timeout.is_transient());
    assert!(LlmError::Status(StatusCode::BAD_GATEWAY).is_transient());
    assert!(LlmError::Status(StatusCode::TOO_MANY_REQUESTS).is_transient());
    assert!(!LlmError::Status(StatusCode::UNAUTHORIZED).is_transient());
    assert!(!LlmError::Unparsable("x").is_transient());
}
