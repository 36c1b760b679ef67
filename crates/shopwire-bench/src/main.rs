//! `shopwire-bench`: send individually signed, unique comment deliveries to a running
//! `shopwire-web` and report latency percentiles.
//!
//! Closed loop (`--concurrency N`) finds saturation; open loop (`--rate R`) sends on a
//! fixed schedule and measures each request from its *scheduled* start, so a slow server
//! cannot hide queueing delay as lower load (no coordinated omission).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Parser;
use hdrhistogram::Histogram;
use secrecy::SecretString;
use shopwire_core::signature::{Secrets, TimestampedHmac};
use tokio::sync::Mutex;

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "Load generator for shopwire-web's ingest path")]
struct Args {
    /// Base URL of shopwire-web.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Comment relay secret the server is configured with.
    #[arg(long, env = "COMMENTS_WEBHOOK_SECRETS", hide_env_values = true)]
    secret: String,
    /// Total requests.
    #[arg(long, default_value_t = 5000)]
    requests: u64,
    /// Concurrent connections (closed loop), or the sender pool for the open loop.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Open loop: requests per second on a fixed schedule.
    #[arg(long)]
    rate: Option<f64>,
    /// Send every event twice (the duplicate path).
    #[arg(long)]
    duplicates: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let secret = args
        .secret
        .split(',')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let signer = TimestampedHmac::comments(Secrets::new([SecretString::from(secret.clone())]), 300);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .context("failed to build the HTTP client")?;
    let url = format!("{}/webhooks/comments", args.url.trim_end_matches('/'));
    let run = format!(
        "{:x}",
        SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos()
    );
    let hist = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(
        1, 60_000_000, 3,
    )?));
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency {
        let (client, url, signer, secret, run) = (
            client.clone(),
            url.clone(),
            signer.clone(),
            secret.clone(),
            run.clone(),
        );
        let (hist, errors, next) = (hist.clone(), errors.clone(), next.clone());
        let (total, rate, duplicates) = (args.requests, args.rate, args.duplicates);
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    return;
                }
                let scheduled = match rate {
                    Some(r) => {
                        let at = started + Duration::from_secs_f64(i as f64 / r);
                        tokio::time::sleep_until(at.into()).await;
                        at
                    }
                    None => Instant::now(),
                };
                let n = if duplicates { i / 2 } else { i };
                let body = format!(
                    r#"{{"comment_id":"bench-{run}-{n}","streamer":"bench_streamer","client":"viewer_{n}","message":"I'll take it!","timestamp":"2026-11-22T10:00:00Z"}}"#
                );
                let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default();
                let header = signer.sign(&secret, now, body.as_bytes());
                let result = client
                    .post(&url)
                    .header("Shopwire-Signature", header)
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await;
                let ok = matches!(&result, Ok(r) if r.status().is_success());
                if let Ok(resp) = result {
                    let _ = resp.bytes().await;
                }
                let micros = scheduled.elapsed().as_micros().max(1) as u64;
                if ok {
                    let _ = hist.lock().await.record(micros.min(60_000_000));
                } else {
                    errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = started.elapsed().as_secs_f64();
    let hist = hist.lock().await;
    let errors = errors.load(std::sync::atomic::Ordering::Relaxed);
    let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    let throughput = args.requests as f64 / elapsed;
    println!(
        "requests {}  errors {}  elapsed {:.2}s  throughput {:.0} req/s\nlatency ms  p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        args.requests,
        errors,
        elapsed,
        throughput,
        ms(0.5),
        ms(0.9),
        ms(0.99),
        ms(0.999),
        hist.max() as f64 / 1000.0
    );
    println!(
        "{}",
        serde_json::json!({
            "scenario": if args.duplicates { "ingest-duplicates" } else { "ingest" },
            "mode": if args.rate.is_some() { "open" } else { "closed" },
            "rate": args.rate, "concurrency": args.concurrency, "requests": args.requests,
            "errors": errors, "throughput_rps": throughput,
            "p50_ms": ms(0.5), "p90_ms": ms(0.9), "p99_ms": ms(0.99), "p999_ms": ms(0.999),
            "max_ms": hist.max() as f64 / 1000.0,
        })
    );
    if errors > 0 {
        std::process::exit(1);
    }
    Ok(())
}
