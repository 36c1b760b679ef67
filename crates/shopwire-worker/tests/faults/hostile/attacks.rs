//! The 1,500 hostile requests, and what each may be answered.

use rand::Rng;
use rand::rngs::StdRng;
use shopwire_core::domain::Provider;

use super::raw;
use crate::faults::web::{Web, unix_now};

/// What a request may be answered.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// Unsigned: refused at the signature.
    Unauthorized,
    /// Signed: accepted (or a duplicate) or refused as malformed.
    Parsed,
    /// Refused by the HTTP layer, or the connection closed without an answer.
    AnyOrClosed,
}

impl Expect {
    /// Whether `status` is an acceptable answer (never a 5xx).
    pub fn allows(self, status: u16) -> bool {
        match self {
            Expect::Unauthorized => status == 401,
            Expect::Parsed => status == 200 || status == 400,
            Expect::AnyOrClosed => (400..500).contains(&status),
        }
    }
}

enum Transport {
    /// Through reqwest: a well-formed HTTP request with hostile content.
    Http {
        path: String,
        headers: Vec<(String, Vec<u8>)>,
        body: Vec<u8>,
    },
    /// Raw bytes on a socket, optionally cut off after `send` bytes.
    Raw { bytes: Vec<u8>, send: Option<usize> },
}

/// One hostile request.
pub struct Attack {
    /// What it tries.
    pub what: &'static str,
    /// What it may be answered.
    pub expect: Expect,
    transport: Transport,
}

impl Attack {
    fn http(
        what: &'static str,
        expect: Expect,
        path: String,
        headers: Vec<(String, Vec<u8>)>,
        body: Vec<u8>,
    ) -> Attack {
        Attack {
            what,
            expect,
            transport: Transport::Http {
                path,
                headers,
                body,
            },
        }
    }

    fn raw(what: &'static str, bytes: Vec<u8>, send: Option<usize>) -> Attack {
        Attack {
            what,
            expect: Expect::AnyOrClosed,
            transport: Transport::Raw { bytes, send },
        }
    }

    /// Send it; the answer's status, or `None` when the connection closed without one.
    pub async fn send(&self, web: &Web) -> Option<u16> {
        match &self.transport {
            Transport::Http {
                path,
                headers,
                body,
            } => {
                let mut request = web
                    .client
                    .post(format!("{}{path}", web.address))
                    .body(body.clone());
                for (name, value) in headers {
                    let value = reqwest::header::HeaderValue::from_bytes(value)
                        .expect("a legal header value");
                    request = request.header(name.as_str(), value);
                }
                let response = request.send().await.ok()?;
                Some(response.status().as_u16())
            }
            Transport::Raw { bytes, send } => raw::exchange(port(web), bytes, *send).await,
        }
    }
}

fn port(web: &Web) -> u16 {
    web.address
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("the web's port")
}

fn path(provider: Provider) -> String {
    format!("/webhooks/{}", provider.route_slug())
}

fn any_provider(rng: &mut StdRng) -> Provider {
    Provider::ALL[rng.random_range(0..Provider::ALL.len())]
}

fn random_bytes(rng: &mut StdRng, max: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; rng.random_range(0..=max)];
    rng.fill(&mut bytes[..]);
    bytes
}

/// Bytes a header value may legally carry (visible ASCII, space, tab, obs-text ≥ 0x80).
fn header_bytes(rng: &mut StdRng, max: usize) -> Vec<u8> {
    random_bytes(rng, max)
        .into_iter()
        .map(|b| {
            if b == b'\t' || (0x20..=0x7e).contains(&b) || b >= 0x80 {
                b
            } else {
                b'a'
            }
        })
        .collect()
}

/// Signed for `provider`: it passes verification and the parser decides.
fn signed(
    web: &Web,
    what: &'static str,
    provider: Provider,
    mut headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
) -> Attack {
    let (name, value) = web.signature(provider, &body);
    headers.push((name.to_owned(), value.into_bytes()));
    Attack::http(what, Expect::Parsed, path(provider), headers, body)
}

fn request_bytes(
    provider: Provider,
    headers: &[(&str, Vec<u8>)],
    body: &[u8],
    length: usize,
) -> Vec<u8> {
    let mut bytes = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n",
        path(provider)
    )
    .into_bytes();
    for (name, value) in headers {
        bytes.extend_from_slice(name.as_bytes());
        bytes.extend_from_slice(b": ");
        bytes.extend_from_slice(value);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(body);
    bytes
}

/// All 1,500, in a seeded random mix.
pub fn all(web: &Web, rng: &mut StdRng) -> Vec<Attack> {
    let mut out = Vec::with_capacity(1_500);
    let now = unix_now();
    for _ in 0..300 {
        let provider = any_provider(rng);
        let name = web.signature(provider, b"").0.to_owned();
        let headers = match rng.random_range(0..3) {
            0 => vec![],
            1 => vec![(name, header_bytes(rng, 300))],
            _ => vec![(name, format!("t={now},v1={}", "0".repeat(64)).into_bytes())],
        };
        out.push(Attack::http(
            "unsigned random bytes",
            Expect::Unauthorized,
            path(provider),
            headers,
            random_bytes(rng, 4096),
        ));
    }
    for _ in 0..200 {
        let (provider, body) = (any_provider(rng), random_bytes(rng, 4096));
        out.push(signed(web, "signed random bytes", provider, vec![], body));
    }
    for rep in 0..5 {
        for depth in [64, 127, 128, 129, 500, 1_000, 10_000, 100_000] {
            for provider in Provider::ALL {
                let body = format!(
                    r#"{{"id":"evt_deep_{rep}_{depth}","type":"x","event":"im_x","tts_notification_id":"d{rep}{depth}","streamer":"s","client":"c","message":"m","timestamp":"2026-11-22T10:00:00Z","nested":{}1{}}}"#,
                    "[".repeat(depth),
                    "]".repeat(depth)
                );
                out.push(signed(
                    web,
                    "deeply nested JSON",
                    provider,
                    vec![],
                    body.into_bytes(),
                ));
            }
        }
    }
    let huge = "9".repeat(400);
    for rep in 0..5 {
        for number in [
            "18446744073709551616",
            huge.as_str(),
            "1e400",
            "-1e400",
            "-18446744073709551617",
        ] {
            let bodies = [
                (
                    Provider::Stripe,
                    format!(
                        r#"{{"id":"evt_n_{rep}_{}","type":"x","amount":{number}}}"#,
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
                out.push(signed(
                    web,
                    "numbers beyond 2^64",
                    provider,
                    vec![],
                    body.into_bytes(),
                ));
            }
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
    for rep in 0..20 {
        for (i, content_type) in content_types.iter().enumerate() {
            let body = format!(r#"{{"id":"evt_ct_{rep}_{i}","type":"x"}}"#).into_bytes();
            let headers = vec![("content-type".to_owned(), content_type.to_vec())];
            out.push(signed(
                web,
                "wrong content type",
                Provider::Stripe,
                headers,
                body,
            ));
        }
    }
    for n in 0..150 {
        let provider = any_provider(rng);
        let bad_utf8 = [
            b"\xc3\x28\xa0\xa1".as_slice(),
            &header_bytes(rng, 64),
            b"\xed\xa0\x80\xff",
        ]
        .concat();
        if n % 2 == 0 {
            let name = web.signature(provider, b"").0.to_owned();
            out.push(Attack::http(
                "bad UTF-8 signature header",
                Expect::Unauthorized,
                path(provider),
                vec![(name, bad_utf8)],
                b"{}".to_vec(),
            ));
        } else {
            let body = format!(r#"{{"id":"evt_utf8_{n}","type":"x"}}"#).into_bytes();
            out.push(signed(
                web,
                "bad UTF-8 in other headers",
                Provider::Stripe,
                vec![("x-junk".to_owned(), bad_utf8)],
                body,
            ));
        }
    }
    for n in 0..100 {
        let provider = any_provider(rng);
        let name = web.signature(provider, b"").0.to_owned();
        let size = [8 * 1024, 16 * 1024, 64 * 1024][n % 3];
        out.push(Attack::http(
            "huge signature header",
            Expect::Unauthorized,
            path(provider),
            vec![(name, header_bytes(rng, size))],
            b"{}".to_vec(),
        ));
    }
    for _ in 0..100 {
        let provider = any_provider(rng);
        let body = bodies_for_truncation(rng);
        let (name, value) = web.signature(provider, &body);
        let bytes = request_bytes(provider, &[(name, value.into_bytes())], &body, body.len());
        let cut = bytes.len() - rng.random_range(1..=body.len());
        out.push(Attack::raw("truncated body", bytes, Some(cut)));
    }
    for n in 0..50 {
        let provider = any_provider(rng);
        let headers: Vec<(&str, Vec<u8>)> = match n % 2 {
            0 => vec![("x-huge", vec![b'a'; 1 << 20])],
            _ => (0..200).map(|_| ("x-many", b"1".to_vec())).collect(),
        };
        out.push(Attack::raw(
            "huge or too many headers",
            request_bytes(provider, &headers, b"{}", 2),
            None,
        ));
    }
    for n in 0..50 {
        let provider = any_provider(rng);
        let headers: Vec<(&str, Vec<u8>)> = match n % 2 {
            0 => vec![("x-bad\u{e9}name", b"v".to_vec())],
            _ => vec![("x-ctl", b"a\x00b\x7f\x01\xff".to_vec())],
        };
        out.push(Attack::raw(
            "bad bytes in raw headers",
            request_bytes(provider, &headers, b"{}", 2),
            None,
        ));
    }
    for _ in 0..100 {
        out.push(Attack::raw(
            "random bytes on the socket",
            random_bytes(rng, 2048),
            None,
        ));
    }
    out
}

fn bodies_for_truncation(rng: &mut StdRng) -> Vec<u8> {
    let n: u32 = rng.random();
    format!(r#"{{"id":"evt_cut_{n}","type":"x","comment_id":"cut-{n}","streamer":"s","client":"c","message":"m","timestamp":"2026-11-22T10:00:00Z"}}"#).into_bytes()
}
