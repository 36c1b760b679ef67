//! Command-line options: one subcommand per scenario, plus the reference-ceiling server and
//! the results table.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// Benchmark harness for Shopwire's ingest path, end-to-end ordering, hot SKUs, outbound
/// events and the seller console.
///
/// Each scenario prints a human summary on stderr and one JSON line on stdout, and exits
/// non-zero on any error (non-2xx, connection error, wrong order count) unless
/// `--allow-errors` is given.
#[derive(Debug, Parser)]
#[command(version)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The scenarios and tools.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Mixed Stripe, TikTok Shop, TikTok DM and comment deliveries, each signed, unique ids:
    /// closed loop to saturation, or open loop with `--rate`.
    Ingest(IngestArgs),
    /// Every event sent twice: first-send and duplicate-answer latency reported apart.
    IngestDuplicates(IngestArgs),
    /// Buy comments at a fixed rate; latency = send until the hold (its order row) exists
    /// (polled in Postgres).
    E2e(E2eArgs),
    /// N buyers racing for SKUs with k units each, sent at once: time until every claim is
    /// decided, exactly the right number of holds, and the earliest messages hold them.
    HotSku(HotSkuArgs),
    /// Outbound events to an in-process receiver: commit → receipt latency of claim events
    /// at a fixed comment rate, then the drain rate of a 10,000-event backlog.
    Outbound(OutboundArgs),
    /// The seller console's live page: `--viewers` (50) signed-in SSE streams of one live
    /// while claims commit at `--rate` (200/s); each claim row timed from its commit to its
    /// arrival at every viewer, and the console's peak RSS.
    Console(ConsoleArgs),
    /// Signed deliveries, each on a new connection, at `--rate` and in a saturation burst,
    /// without and then with `--idle` (1,500) idle connections held open (half silent, half
    /// trickling a header one byte per second); and how many of those the server closed
    /// within its header timeout.
    Idle(IdleArgs),
    /// TikTok Shop (issue #15) against an in-process fake, driven through a `shopwire-worker`
    /// child: `--changes` (1,000) stock changes on `--skus` (50) linked SKUs in
    /// `--change-secs` (10) — pushes per SKU per interval, last value wins, lag — then the
    /// reconciliation of `--orders` (5,000) orders within `--requests-per-minute` (600).
    TiktokShop(TiktokShopArgs),
    /// The reference ceiling: read body, verify HMAC, one Postgres INSERT, one Redis LPUSH, 200.
    CeilingServer(CeilingArgs),
    /// Medians of repeated runs (JSON lines) as the Markdown results table.
    Table(TableArgs),
}

/// The secrets the server under test is configured with (the same variables it reads).
#[derive(Debug, Clone, clap::Args)]
pub struct SigningArgs {
    /// Stripe endpoint secrets; the first one signs.
    #[arg(
        long,
        env = "STRIPE_WEBHOOK_SECRETS",
        hide_env_values = true,
        default_value = ""
    )]
    pub stripe_secrets: String,
    /// TikTok Shop app key (signed together with the body).
    #[arg(long, env = "TIKTOK_SHOP_APP_KEY", default_value = "")]
    pub tiktok_shop_app_key: String,
    /// TikTok Shop app secrets; the first one signs.
    #[arg(
        long,
        env = "TIKTOK_SHOP_APP_SECRETS",
        hide_env_values = true,
        default_value = ""
    )]
    pub tiktok_shop_secrets: String,
    /// TikTok (DM) webhook secrets; the first one signs.
    #[arg(
        long,
        env = "TIKTOK_WEBHOOK_SECRETS",
        hide_env_values = true,
        default_value = ""
    )]
    pub tiktok_secrets: String,
    /// Comment relay secrets; the first one signs.
    #[arg(
        long,
        env = "COMMENTS_WEBHOOK_SECRETS",
        hide_env_values = true,
        default_value = ""
    )]
    pub comments_secrets: String,
}

/// How much load, how, and against what.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadArgs {
    /// Base URL of the server under test (shopwire-web or the ceiling server).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Name of the target in the report (`web`, `ceiling`).
    #[arg(long, default_value = "web")]
    pub target: String,
    /// Closed loop: connections each sending its next request when the previous answers.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Open loop: requests per second on a fixed schedule, latency from the scheduled start.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Requests to send (ignored when `--duration` is given).
    #[arg(long, default_value_t = 5000)]
    pub requests: u64,
    /// Send for this many seconds instead of a fixed count.
    #[arg(long)]
    pub duration: Option<f64>,
    /// Unmeasured requests sent first (closed loop), to open connections and warm caches.
    #[arg(long, default_value_t = 0)]
    pub warmup: u64,
    /// Per-request timeout in milliseconds (a timeout counts as an error).
    #[arg(long, default_value_t = 10_000)]
    pub timeout_ms: u64,
    /// Report errors but exit 0.
    #[arg(long)]
    pub allow_errors: bool,
}

impl LoadArgs {
    /// The per-request timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

/// `ingest` and `ingest-duplicates`.
#[derive(Debug, Clone, clap::Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub signing: SigningArgs,
}

/// How the scenarios that look at the database reach it.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// The database shopwire-web and shopwire-worker use (must be a scratch one: the
    /// scenarios add products).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    /// How often to poll Postgres for finished deliveries, in milliseconds.
    #[arg(long, default_value_t = 2)]
    pub poll_ms: u64,
    /// After the last send, how long to wait for the worker to finish, in seconds.
    #[arg(long, default_value_t = 60)]
    pub settle_secs: u64,
}

/// The worker's claim settings, read from the same variables it reads (so give both the
/// same environment): the scenarios' targets and checks depend on them.
#[derive(Debug, Clone, clap::Args)]
pub struct ClaimArgs {
    /// The worker's fairness window: a claim is decided this long after its message's time.
    #[arg(long, env = "CLAIM_ORDER_WINDOW_MS", default_value_t = 300)]
    pub window_ms: u64,
    /// The worker's waitlist length per variant (0: losers are `sold_out`).
    #[arg(long, env = "WAITLIST_MAX", default_value_t = 50)]
    pub waitlist_max: u64,
}

/// `e2e`.
#[derive(Debug, Clone, clap::Args)]
pub struct E2eArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub signing: SigningArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub claims: ClaimArgs,
}

/// What `timestamp` the hot-SKU comments carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Stamps {
    /// Distinct times `--stamp-step-us` apart, all just before the run starts, handed out in
    /// a shuffled order: the send order is not the time order, and the earliest-wins check
    /// knows every message's time.
    Shuffled,
    /// The time each comment is built, just before it is sent (no earliest-wins check).
    Send,
}

/// `hot-sku`.
#[derive(Debug, Clone, clap::Args)]
pub struct HotSkuArgs {
    /// Base URL of shopwire-web.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Buyers, one buy comment each, all sent at once.
    #[arg(long, default_value_t = 500)]
    pub buyers: u64,
    /// Units of stock per SKU.
    #[arg(long, default_value_t = 50)]
    pub stock: u64,
    /// SKUs the buyers are spread over round-robin (1 = one hot SKU).
    #[arg(long, default_value_t = 1)]
    pub skus: u64,
    /// Connections sending at once (default: one per buyer).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Scenario name in the report (e.g. `spread` for many SKUs).
    #[arg(long, default_value = "hot-sku")]
    pub name: String,
    /// Per-request timeout in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub timeout_ms: u64,
    /// Report errors but exit 0 (a wrong order count still fails).
    #[arg(long)]
    pub allow_errors: bool,
    /// Comment timestamps: shuffled distinct times (checks the earliest messages win), or
    /// the send time.
    #[arg(long, value_enum, default_value_t = Stamps::Shuffled)]
    pub stamps: Stamps,
    /// With `--stamps shuffled`: microseconds between consecutive comment times.
    #[arg(long, default_value_t = 100)]
    pub stamp_step_us: u64,
    /// With `--stamps shuffled`: seed of the shuffle (default: from the run id).
    #[arg(long)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub signing: SigningArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub claims: ClaimArgs,
}

/// `outbound`.
#[derive(Debug, Clone, clap::Args)]
pub struct OutboundArgs {
    /// The comment load of the latency part (`--rate`, `--duration`).
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub signing: SigningArgs,
    #[command(flatten)]
    pub db: DbArgs,
    /// Events inserted at once (one statement) for the drain part.
    #[arg(long, default_value_t = 10_000)]
    pub backlog: u64,
    /// Connections of the plain-HTTP reference load on the receiver: the worker's
    /// `WORKER_CONCURRENCY` (its outbound queue runs that many deliveries at once).
    #[arg(long, env = "WORKER_CONCURRENCY", default_value_t = 8)]
    pub worker_concurrency: usize,
    /// The worker's pid: its VmHWM and VmRSS are read at the end of each part.
    #[arg(long)]
    pub worker_pid: Option<u32>,
}

/// `console`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConsoleArgs {
    /// Base URL of the running shopwire-console.
    #[arg(long, default_value = "http://127.0.0.1:8081")]
    pub url: String,
    /// The console's sign-in password (the same variable it reads).
    #[arg(long, env = "CONSOLE_PASSWORD", hide_env_values = true)]
    pub password: String,
    /// The console's pid: its VmRSS is sampled during the run and its VmHWM read at the end.
    #[arg(long)]
    pub console_pid: Option<u32>,
    /// Open live pages (SSE streams) of the one streamer, each on its own connection.
    #[arg(long, default_value_t = 50)]
    pub viewers: usize,
    /// Claims committed per second, on a fixed schedule (open loop).
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Seconds of claims at `--rate`.
    #[arg(long, default_value_t = 20.0)]
    pub duration: f64,
    /// Unmeasured claims first, at the same rate, until every viewer shows them (proves the
    /// console's LISTEN is up and warms every path).
    #[arg(long, default_value_t = 20)]
    pub warmup: u64,
    /// SKUs in the streamer's lineup; claims go round-robin over them.
    #[arg(long, default_value_t = 10)]
    pub skus: u64,
    /// Units of stock per SKU: the first claims get holds, then the waitlist fills
    /// (`WAITLIST_MAX`), then the rest are sold out.
    #[arg(long, default_value_t = 100)]
    pub stock: u64,
    /// The allocator's waitlist length per variant (as the worker reads it).
    #[arg(long, env = "WAITLIST_MAX", default_value_t = 50)]
    pub waitlist_max: u32,
    /// How long a hold lasts, in seconds (as the worker reads it).
    #[arg(long, env = "RESERVATION_TTL_SECS", default_value_t = 3600)]
    pub hold_secs: u64,
    /// The database the console reads (a scratch one: the scenario adds products,
    /// messages and claims).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    /// Connections of the claim writer's pool.
    #[arg(long, default_value_t = 16)]
    pub db_connections: u32,
    /// Commit the claims with `synchronous_commit=on` (default off: visibility and NOTIFY
    /// come at commit either way, so the console sees the same thing, but the writer need not
    /// wait for each WAL flush to keep the rate on a small box).
    #[arg(long)]
    pub durable_commits: bool,
    /// Do not `ANALYZE` after the warm-up: measure freshly emptied tables, whose planner
    /// estimates are the defaults for tables without statistics.
    #[arg(long)]
    pub no_analyze: bool,
    /// After the last commit, how long to wait for every viewer to show every claim.
    #[arg(long, default_value_t = 30)]
    pub settle_secs: u64,
    /// Report errors (claims not shown, reloads, failed writes) but exit 0.
    #[arg(long)]
    pub allow_errors: bool,
}

/// `idle`.
#[derive(Debug, Clone, clap::Args)]
pub struct IdleArgs {
    /// Base URL of the running shopwire-web (`http://127.0.0.1:PORT`).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Idle connections held open during the second half: when the server closes one, it is
    /// opened again at once (as a slow client would), until the measurement ends.
    #[arg(long, default_value_t = 1500)]
    pub idle: usize,
    /// Of `--idle`, how many trickle a request header one byte per second (default: half);
    /// the others never send a byte.
    #[arg(long)]
    pub trickle: Option<usize>,
    /// Deliveries per second in the paced part (open loop), each on a new connection.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    /// Seconds of the paced part.
    #[arg(long, default_value_t = 15.0)]
    pub duration: f64,
    /// Connections of the saturation burst (closed loop, a new connection per delivery).
    #[arg(long, default_value_t = 64)]
    pub burst_concurrency: usize,
    /// Seconds of the saturation burst.
    #[arg(long, default_value_t = 3.0)]
    pub burst_secs: f64,
    /// The server's header-read timeout (the same variable shopwire-web reads): an idle
    /// connection must be closed by the server within this plus `--grace-secs`.
    #[arg(long, env = "HTTP_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Seconds beyond the header timeout a server may take to close an idle connection.
    #[arg(long, default_value_t = 2)]
    pub grace_secs: u64,
    /// The web's pid: its open file descriptors are sampled and its VmHWM read at the end.
    #[arg(long)]
    pub web_pid: Option<u32>,
    /// Per-delivery timeout in milliseconds (a timeout counts as an error).
    #[arg(long, default_value_t = 10_000)]
    pub timeout_ms: u64,
    /// Report errors (deliveries not answered 2xx, idle connections that could not be
    /// opened) but exit 0.
    #[arg(long)]
    pub allow_errors: bool,
    #[command(flatten)]
    pub signing: SigningArgs,
}

/// `tiktok-shop`.
#[derive(Debug, Clone, clap::Args)]
pub struct TiktokShopArgs {
    /// The release `shopwire-worker` binary the scenario starts (twice: one per part).
    #[arg(long)]
    pub worker_bin: PathBuf,
    /// Where the workers' stdout and stderr go (default: discarded).
    #[arg(long)]
    pub worker_log: Option<PathBuf>,
    /// The workers' `WORKER_PORT` (default: a free port).
    #[arg(long)]
    pub worker_port: Option<u16>,
    /// A scratch database, migrated (the scenario adds products, a shop, links and orders).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    /// Redis for the workers' queues and the shared TikTok Shop rate budget.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: String,
    /// The workers' `QUEUE_PREFIX` is `<this>:tts-<run>`, unique per run (so its keys are
    /// deleted with the rest of the bench's).
    #[arg(long, env = "QUEUE_PREFIX", default_value = "shopwire-bench")]
    pub queue_prefix: String,
    /// The workers' `TIKTOK_SHOP_INVENTORY_PUSH_SECS`: at most one push per SKU per this.
    #[arg(long, default_value_t = 5)]
    pub inventory_push_secs: u64,
    /// The workers' `TIKTOK_SHOP_REQUESTS_PER_MINUTE`, and the fake's own limit (so a call
    /// past the budget is a 429 the run counts).
    #[arg(long, default_value_t = 600)]
    pub requests_per_minute: u32,
    /// Linked SKUs.
    #[arg(long, default_value_t = 50)]
    pub skus: u64,
    /// Stock changes, each its own transaction, on a random SKU, evenly spread over
    /// `--change-secs`.
    #[arg(long, default_value_t = 1000)]
    pub changes: u64,
    /// Seconds the stock changes are spread over.
    #[arg(long, default_value_t = 10.0)]
    pub change_secs: f64,
    /// Seed of the random SKUs and values (default: from the run id).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Orders the fake lists for reconciliation (0: skip that part).
    #[arg(long, default_value_t = 5000)]
    pub orders: u64,
    /// Report errors but exit 0.
    #[arg(long)]
    pub allow_errors: bool,
}

/// `ceiling-server`.
#[derive(Debug, Clone, clap::Args)]
pub struct CeilingArgs {
    /// Port to listen on (127.0.0.1).
    #[arg(long, default_value_t = 8090)]
    pub port: u16,
    /// Postgres for the one INSERT per request (table `bench_ceiling`, created if missing).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    /// Pool size, as shopwire-web's.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 10)]
    pub pool_size: u32,
    /// Redis for the one LPUSH per request.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: String,
    /// The list is `<prefix>:ceiling`.
    #[arg(long, env = "QUEUE_PREFIX", default_value = "shopwire-bench")]
    pub queue_prefix: String,
    #[command(flatten)]
    pub signing: SigningArgs,
}

/// `table`.
#[derive(Debug, Clone, clap::Args)]
pub struct TableArgs {
    /// Files of JSON lines written by the scenarios (and by scripts/bench.sh for pgbench and RSS).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}
