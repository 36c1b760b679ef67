use chrono::TimeZone;
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0)
        .single()
        .expect("valid time")
}

fn client(server: &MockServer) -> RapidApiClient {
    RapidApiClient::new(
        &server.uri(),
        "tiktok-scraper2.p.rapidapi.com",
        SecretString::from("rapid-key"),
        6000,
    )
}

#[tokio::test]
async fn hashtag_counters_are_read_with_the_rapidapi_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/hashtag/info"))
        .and(query_param("hashtag", "y2kfashion"))
        .and(header("X-RapidAPI-Key", "rapid-key"))
        .and(header("X-RapidAPI-Host", "tiktok-scraper2.p.rapidapi.com"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "code": 0,
            "data": { "challenge": { "title": "y2kfashion" },
                      "stats": { "viewCount": 1_250_000, "videoCount": 311,
                                 "diggCount": "90000", "commentCount": 1200, "shareCount": 800 } },
        })))
        .expect(1)
        .mount(&server)
        .await;
    let snapshot = client(&server)
        .fetch(SignalKind::Hashtag, "y2kfashion", now())
        .await
        .expect("fetched");
    assert_eq!(
        snapshot,
        Snapshot {
            captured_at: now(),
            views: 1_250_000,
            likes: 90_000,
            comments: 1200,
            shares: 800,
        }
    );
}

#[tokio::test]
async fn a_429_waits_for_retry_after_and_tries_again() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/video/info"))
        .and(query_param("video_id", "7312"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/video/info"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "itemInfo": { "stats": { "playCount": 5000, "diggCount": 400 } },
        })))
        .mount(&server)
        .await;
    let snapshot = client(&server)
        .fetch(SignalKind::Video, "7312", now())
        .await
        .expect("fetched after the wait");
    assert_eq!((snapshot.views, snapshot.likes), (5000, 400));
    let calls = server.received_requests().await.map_or(0, |r| r.len());
    assert_eq!(calls, 2);
}

#[tokio::test]
async fn a_long_retry_after_or_a_server_error_ends_the_fetch() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/hashtag/info"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3600"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/video/info"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let c = client(&server);
    assert!(matches!(
        c.fetch(SignalKind::Hashtag, "x", now()).await,
        Err(FetchError::Status(StatusCode::TOO_MANY_REQUESTS))
    ));
    assert!(matches!(
        c.fetch(SignalKind::Video, "1", now()).await,
        Err(FetchError::Status(StatusCode::BAD_GATEWAY))
    ));
}

#[test]
fn answers_without_a_view_count_are_refused() {
    assert_eq!(counters(&json!({"data": {"likes": 4}}), now()), None);
    assert_eq!(
        counters(&json!([{"views": "12", "shares": 2}]), now()).map(|s| (s.views, s.shares)),
        Some((12, 2))
    );
}
