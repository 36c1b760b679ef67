#!/usr/bin/env bash
# Run the benchmark suite against locally started release builds of shopwire-web and
# shopwire-worker, next to the reference ceiling and pgbench, and write the results table.
#
#   scripts/bench.sh                 # REPEATS=3 full runs (~10 s per load run)
#   QUICK=1 scripts/bench.sh         # short runs, to check the harness end to end
#   SCENARIOS=outbound scripts/bench.sh   # only some scenarios
#
# Outbound (issue #13): a fresh worker with OUTBOUND_ALLOW_PRIVATE=true delivers to a receiver
# inside shopwire-bench (127.0.0.1, registered as the one endpoint, answers 200 at once). Buy
# comments at E2E_RATE for the load duration time each claim event from its commit (the
# event's occurred_at) to its arrival; then one statement emits OUTBOUND_BACKLOG events with
# the worker running, timed from that commit to the last arrival (deliveries/s), next to the
# receiver's own rate under plain HTTP load at the worker's concurrency; the worker's VmHWM is
# read after each part.
#
# Console (issue #14): a fresh release shopwire-console per repeat (no web or worker needed).
# The harness signs in once, opens CONSOLE_VIEWERS SSE streams of one live, then commits
# claims itself (the core's claim and allocator functions) at CONSOLE_RATE for CONSOLE_SECS
# and times each claim row from its commit to its arrival at every viewer; the console's
# VmRSS is sampled during the run and its VmHWM read at the end.
#
# Idle (issue #11): a fresh release shopwire-web per repeat on IDLE_WEB_PORT with
# HTTP_HEADER_TIMEOUT_SECS=IDLE_HEADER_TIMEOUT_SECS. Signed deliveries, each on a new
# connection, at IDLE_RATE for IDLE_SECS and then a burst of IDLE_BURST_SECS at
# INGEST_CONCURRENCY senders; then IDLE_CONNECTIONS idle connections are opened (half silent,
# half trickling a header 1 byte/s), held (re-opened when the server closes one), and the same
# measured again; finally how many the server closed within the header timeout + 2 s. Needs
# ~IDLE_CONNECTIONS + 500 file descriptors per process: the script raises the soft limit
# (ulimit -n) to the hard limit when it is below 8000, and stops if that is still too few.
#
# TikTok Shop (issue #15): the harness runs the fake TikTok Shop in-process (its own limit set
# to TTS_REQUESTS_PER_MINUTE), connects a seller with one shop, links TTS_SKUS products, and
# starts a release shopwire-worker of its own per part (--worker-bin) pointed at the fake.
# Part 1: TTS_CHANGES stock changes on random SKUs over TTS_CHANGE_SECS; pushes per SKU per
# TIKTOK_SHOP_INVENTORY_PUSH_SECS (TTS_PUSH_SECS), last value wins, lag. Part 2: TTS_ORDERS
# orders with no webhook, a worker with TIKTOK_SHOP_RECONCILE_SECS=1, timed until all are in
# `orders`; calls made, calls/min against the budget, 429s. At 600/min 5,000 orders take ~9 min.
#
# Environment (all optional):
#   REPEATS=3            runs per scenario; the table shows medians
#   SCENARIOS=all        or a comma list of: ingest e2e hot-sku spread outbound console idle
#                        tiktok-shop pgbench
#                        (only the binaries the chosen scenarios run are built and started)
#   QUICK=0|1            short runs (2 s loads, 2 s pgbench, smaller spread run)
#   BUILD=1|0            0: skip `cargo build --release`, use the binaries in target/release
#   BENCH_DB=shopwire_bench   scratch database: DROPPED and recreated (never `test`/`shopwire`)
#   PG_BASE_URL=postgres://postgres@127.0.0.1:5432   server holding the scratch database
#   REDIS_URL=redis://127.0.0.1:6379                 keys under QUEUE_PREFIX are deleted
#   QUEUE_PREFIX=shopwire-bench
#   INGEST_CONCURRENCY=64  E2E_RATE=200  HOT_BUYERS=500  HOT_STOCK=50  SPREAD_SKUS=100
#   OUTBOUND_BACKLOG=10000  events the outbound drain inserts at once
#   CONSOLE_VIEWERS=50  CONSOLE_RATE=200  CONSOLE_SECS=20 (QUICK=1: 5)  open live pages, claims/s, seconds
#   CONSOLE_SKUS=10  CONSOLE_STOCK=100   the live's lineup: claims round-robin over SKUs × units
#   CONSOLE_PASSWORD=bench-console-password   the console's sign-in password (console and harness)
#   IDLE_CONNECTIONS=1500  IDLE_RATE=20  IDLE_SECS=15 (QUICK=1: 5)  IDLE_BURST_SECS=3 (QUICK=1: 2)
#   IDLE_HEADER_TIMEOUT_SECS=5  the idle web's HTTP_HEADER_TIMEOUT_SECS (short, so the run sees it)
#   TTS_SKUS=50  TTS_CHANGES=1000  TTS_CHANGE_SECS=10  TTS_PUSH_SECS=5  tiktok-shop part 1
#   TTS_ORDERS=5000 (QUICK=1: 200)  TTS_REQUESTS_PER_MINUTE=600  tiktok-shop part 2 (0 orders: skip it)
#   CLAIM_ORDER_WINDOW_MS=300  the worker's fairness window; the e2e targets are window + 25 / 150 ms
#   WAITLIST_MAX=50      the worker's waitlist per variant: in hot-sku the 50 losers after the 50
#                        holders are waitlisted and the other 400 sold out (both are decisions)
#   BENCH_RUST_LOG=warn  log filter for web and worker
#   WEB_PORT=18080  WORKER_PORT=18091  CEILING_PORT=18090  CONSOLE_PORT=18081  IDLE_WEB_PORT=18082
# Output: bench/results/latest.md (also printed) and bench/results/latest.jsonl (raw runs).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

REPEATS="${REPEATS:-3}"
QUICK="${QUICK:-0}"
SCENARIOS="${SCENARIOS:-all}"
OUTBOUND_BACKLOG="${OUTBOUND_BACKLOG:-10000}"
BENCH_DB="${BENCH_DB:-shopwire_bench}"
PG_BASE_URL="${PG_BASE_URL:-postgres://postgres@127.0.0.1:5432}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
QUEUE_PREFIX="${QUEUE_PREFIX:-shopwire-bench}"
INGEST_CONCURRENCY="${INGEST_CONCURRENCY:-64}"
E2E_RATE="${E2E_RATE:-200}"
HOT_BUYERS="${HOT_BUYERS:-500}"
HOT_STOCK="${HOT_STOCK:-50}"
SPREAD_SKUS="${SPREAD_SKUS:-100}"
CLAIM_ORDER_WINDOW_MS="${CLAIM_ORDER_WINDOW_MS:-300}"
WAITLIST_MAX="${WAITLIST_MAX:-50}"
WEB_PORT="${WEB_PORT:-18080}"
WORKER_PORT="${WORKER_PORT:-18091}"
CEILING_PORT="${CEILING_PORT:-18090}"
CONSOLE_PORT="${CONSOLE_PORT:-18081}"
CONSOLE_VIEWERS="${CONSOLE_VIEWERS:-50}"
CONSOLE_RATE="${CONSOLE_RATE:-200}"
CONSOLE_SKUS="${CONSOLE_SKUS:-10}"
CONSOLE_STOCK="${CONSOLE_STOCK:-100}"
IDLE_WEB_PORT="${IDLE_WEB_PORT:-18082}"
IDLE_CONNECTIONS="${IDLE_CONNECTIONS:-1500}"
IDLE_RATE="${IDLE_RATE:-20}"
IDLE_HEADER_TIMEOUT_SECS="${IDLE_HEADER_TIMEOUT_SECS:-5}"
TTS_SKUS="${TTS_SKUS:-50}"
TTS_CHANGES="${TTS_CHANGES:-1000}"
TTS_CHANGE_SECS="${TTS_CHANGE_SECS:-10}"
TTS_PUSH_SECS="${TTS_PUSH_SECS:-5}"
TTS_REQUESTS_PER_MINUTE="${TTS_REQUESTS_PER_MINUTE:-600}"

if [[ "$QUICK" == 1 ]]; then
  LOAD_SECS=2 WARMUP=200 PGBENCH_SECS=2 SPREAD_BUYERS=1000
  CONSOLE_SECS="${CONSOLE_SECS:-5}"
  TTS_ORDERS="${TTS_ORDERS:-200}"
  IDLE_SECS="${IDLE_SECS:-5}" IDLE_BURST_SECS="${IDLE_BURST_SECS:-2}"
else
  LOAD_SECS=10 WARMUP=2000 PGBENCH_SECS=10 SPREAD_BUYERS=4000
  CONSOLE_SECS="${CONSOLE_SECS:-20}"
  TTS_ORDERS="${TTS_ORDERS:-5000}"
  IDLE_SECS="${IDLE_SECS:-15}" IDLE_BURST_SECS="${IDLE_BURST_SECS:-3}"
fi

[[ "$REPEATS" =~ ^[1-9][0-9]*$ ]] || die "REPEATS must be a positive integer, not '$REPEATS'"
[[ "$BENCH_DB" =~ ^[A-Za-z0-9_]+$ ]] || die "BENCH_DB must be a plain database name"
[[ "$CLAIM_ORDER_WINDOW_MS" =~ ^[0-9]+$ ]] || die "CLAIM_ORDER_WINDOW_MS must be a number of milliseconds"
[[ "$WAITLIST_MAX" =~ ^[0-9]+$ ]] || die "WAITLIST_MAX must be a non-negative integer"
[[ "$OUTBOUND_BACKLOG" =~ ^[1-9][0-9]*$ ]] || die "OUTBOUND_BACKLOG must be a positive integer"
for v in CONSOLE_VIEWERS CONSOLE_RATE CONSOLE_SECS CONSOLE_SKUS CONSOLE_STOCK \
  IDLE_CONNECTIONS IDLE_RATE IDLE_SECS IDLE_BURST_SECS IDLE_HEADER_TIMEOUT_SECS \
  TTS_SKUS TTS_CHANGES TTS_CHANGE_SECS TTS_PUSH_SECS TTS_REQUESTS_PER_MINUTE; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
[[ "$TTS_ORDERS" =~ ^[0-9]+$ ]] || die "TTS_ORDERS must be a non-negative integer, not '$TTS_ORDERS'"
for s in ${SCENARIOS//,/ }; do
  case "$s" in all | ingest | e2e | hot-sku | spread | outbound | console | idle | tiktok-shop | pgbench) ;;
  *) die "SCENARIOS: unknown scenario '$s' (all, ingest, e2e, hot-sku, spread, outbound, console, idle, tiktok-shop, pgbench)" ;;
  esac
done
want() { [[ ",$SCENARIOS," == *",all,"* || ",$SCENARIOS," == *",$1,"* ]]; }
# Which servers the chosen scenarios run against (admin migrates, bench measures: always).
# The shared web serves the first five; idle starts a web of its own.
need_web=0 need_shared_web=0 need_worker=0 need_console=0
if want ingest || want e2e || want hot-sku || want spread || want outbound; then need_shared_web=1; fi
if ((need_shared_web)) || want idle; then need_web=1; fi
if want e2e || want hot-sku || want spread || want outbound || want tiktok-shop; then need_worker=1; fi
if want console; then need_console=1; fi
binaries=(shopwire-admin shopwire-bench)
((need_web)) && binaries+=(shopwire-web)
((need_worker)) && binaries+=(shopwire-worker)
((need_console)) && binaries+=(shopwire-console)
case "$BENCH_DB" in test | shopwire | postgres | template0 | template1)
  die "BENCH_DB=$BENCH_DB would be dropped; choose a scratch name" ;;
esac
for tool in psql pgbench redis-cli curl jq; do
  have "$tool" || die "$tool not found; install it (Debian: postgresql-client, redis-tools, curl, jq)"
done
psql "$PG_BASE_URL/postgres" -tAc 'select 1' >/dev/null 2>&1 ||
  die "Postgres does not answer at $(mask_url "$PG_BASE_URL"); start it or set PG_BASE_URL"
[[ "$(redis-cli -u "$REDIS_URL" ping 2>/dev/null)" == PONG ]] ||
  die "Redis does not answer at $(mask_url "$REDIS_URL"); start it or set REDIS_URL"

for port in "$WEB_PORT" "$WORKER_PORT" "$CEILING_PORT" "$CONSOLE_PORT" "$IDLE_WEB_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is already in use (a server left from an earlier run?); free it or set WEB_PORT/WORKER_PORT/CEILING_PORT/CONSOLE_PORT/IDLE_WEB_PORT"
  fi
done

# File descriptors: the idle scenario holds IDLE_CONNECTIONS sockets in the harness and as many
# in the web, each process under this shell's soft limit, which the servers inherit.
fd_wanted=8000
fd_soft="$(ulimit -Sn)"
fd_hard="$(ulimit -Hn)"
if [[ "$fd_soft" != unlimited ]] && ((fd_soft < fd_wanted)); then
  if ulimit -Sn "$fd_hard" 2>/dev/null; then
    log "file descriptors: raised the soft limit (ulimit -n) from $fd_soft to the hard limit $fd_hard"
  else
    warn "file descriptors: could not raise the soft limit (ulimit -n $fd_soft) to the hard limit $fd_hard"
  fi
  fd_soft="$(ulimit -Sn)"
  if [[ "$fd_soft" != unlimited ]] && ((fd_soft < fd_wanted)); then
    warn "file descriptors: the soft limit is $fd_soft, below $fd_wanted, and the hard limit ($fd_hard) does not allow more; raise it (e.g. 'ulimit -Hn 65536' as root, or LimitNOFILE=) for the idle scenario"
  fi
fi
if want idle && [[ "$fd_soft" != unlimited ]] && ((fd_soft < IDLE_CONNECTIONS + 500)); then
  die "file descriptors: ulimit -n is $fd_soft; the idle scenario needs at least IDLE_CONNECTIONS + 500 = $((IDLE_CONNECTIONS + 500)) per process (hard limit $fd_hard): raise the hard limit or lower IDLE_CONNECTIONS"
fi

results=bench/results
mkdir -p "$results"
work="$(mktemp -d "${TMPDIR:-/tmp}/shopwire-bench.XXXXXX")"
runs="$work/runs.jsonl"
: >"$runs"
failures=()

# --- Environment shared by web, worker, the ceiling server and the harness -------------------
export DATABASE_URL="$PG_BASE_URL/$BENCH_DB"
export REDIS_URL QUEUE_PREFIX
export PORT="$WEB_PORT" WORKER_PORT
export APP_ENV=production
export RUST_LOG="${BENCH_RUST_LOG:-warn}"
# The worker decides claims with these; the harness reads the same two for its targets/checks.
export CLAIM_ORDER_WINDOW_MS WAITLIST_MAX
export STRIPE_WEBHOOK_SECRETS=whsec_bench_secret
export TIKTOK_SHOP_APP_KEY=bench_app_key
export TIKTOK_SHOP_APP_SECRETS=bench_app_secret
export TIKTOK_WEBHOOK_SECRETS=bench_tiktok_secret
export COMMENTS_WEBHOOK_SECRETS=bench_comments_secret
export CONSOLE_PASSWORD="${CONSOLE_PASSWORD:-bench-console-password}"
export PGOPTIONS='-c client_min_messages=warning'

bin="${CARGO_TARGET_DIR:-target}/release"
if [[ "${BUILD:-1}" == 1 ]]; then
  log "cargo build --release (${binaries[*]#shopwire-})"
  # shellcheck disable=SC2046 # one -p per binary
  cargo build --release $(printf -- '-p %s ' "${binaries[@]}") ||
    die "the release build failed (see above)"
else
  log "BUILD=0: using the binaries already in $bin"
fi
for b in "${binaries[@]}"; do
  [[ -x "$bin/$b" ]] || die "$bin/$b is missing; run without BUILD=0"
done

pids=()
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  flush_redis
  log "logs: $work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

flush_redis() {
  redis-cli -u "$REDIS_URL" --scan --pattern "$QUEUE_PREFIX:*" 2>/dev/null |
    xargs -r -n 500 redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
}

# Empty every table of the scratch database but the migration record and pgbench's.
reset_db() {
  local tables
  tables="$(psql "$DATABASE_URL" -tAc "select string_agg(quote_ident(tablename), ', ')
    from pg_tables where schemaname = 'public'
      and tablename not like '\_sqlx%' and tablename not like 'pgb\_%'")"
  [[ -n "$tables" ]] || return 0
  # A background task of a running server can deadlock with TRUNCATE; it is safe to retry.
  local attempt
  for attempt in 1 2 3 4 5; do
    psql "$DATABASE_URL" -qc "TRUNCATE $tables RESTART IDENTITY CASCADE" 2>>"$work/reset.log" && return 0
    warn "emptying $BENCH_DB failed (attempt $attempt; see $work/reset.log); retrying"
    sleep 1
  done
  die "could not empty $BENCH_DB (see $work/reset.log)"
}

wait_ready() { # NAME URL
  wait_until 60 curl -fs -o /dev/null "$2" || die "$1 did not become ready at $2 (log: $work/$1.log)"
}

start() { # NAME COMMAND...
  local name="$1"
  shift
  "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  declare -g "${name}_pid=$!"
}

# bench NAME ARGS...: one harness run; its JSON line goes to $runs, a failure is remembered.
bench() {
  local label="$1"
  shift
  log "run: $label"
  if ! "$bin/shopwire-bench" "$@" >>"$runs" 2> >(tee -a "$work/bench.log" >&2); then
    failures+=("$label")
  fi
}

last() { # SCENARIO TARGET MODE KEY: KEY of the latest matching JSON line
  jq -rs --arg s "$1" --arg t "$2" --arg m "$3" --arg k "$4" \
    '[.[] | select(.scenario == $s and .target == $t and .mode == $m)] | last | .[$k] // empty' "$runs"
}

rss_mib() { # PID: peak resident set (VmHWM) in MiB
  awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

# --- Scratch database, Redis namespace, servers ---------------------------------------------
log "recreating database $BENCH_DB"
psql "$PG_BASE_URL/postgres" -qc "DROP DATABASE IF EXISTS \"$BENCH_DB\" WITH (FORCE)"
psql "$PG_BASE_URL/postgres" -qc "CREATE DATABASE \"$BENCH_DB\""
flush_redis
"$bin/shopwire-admin" migrate >"$work/migrate.log" 2>&1 || die "migrations failed (log: $work/migrate.log)"

want ingest && start ceiling "$bin/shopwire-bench" ceiling-server --port "$CEILING_PORT"
((need_shared_web)) && start web "$bin/shopwire-web"
want ingest && wait_ready ceiling "http://127.0.0.1:$CEILING_PORT/ready"
((need_shared_web)) && wait_ready web "http://127.0.0.1:$WEB_PORT/ready"
web="http://127.0.0.1:$WEB_PORT"
ceiling="http://127.0.0.1:$CEILING_PORT"

# --- Ingest: web and ceiling interleaved, without the worker (the ceiling has none) ----------
load=(--concurrency "$INGEST_CONCURRENCY" --duration "$LOAD_SECS" --warmup "$WARMUP")
for ((r = 1; r <= REPEATS; r++)); do
  want ingest || break
  reset_db
  bench "ingest ceiling closed #$r" ingest --url "$ceiling" --target ceiling "${load[@]}"
  bench "ingest web closed #$r" ingest --url "$web" --target web "${load[@]}"
  half="$(last ingest web closed throughput)"
  half="$(awk -v t="${half:-0}" 'BEGIN { r = int(t / 2); print (r < 50 ? 50 : r) }')"
  bench "ingest web open @$half/s #$r" ingest --url "$web" --target web --rate "$half" \
    --duration "$LOAD_SECS" --concurrency "$INGEST_CONCURRENCY"
  bench "ingest ceiling open @$half/s #$r" ingest --url "$ceiling" --target ceiling --rate "$half" \
    --duration "$LOAD_SECS" --concurrency "$INGEST_CONCURRENCY"
  bench "ingest-duplicates web #$r" ingest-duplicates --url "$web" --target web "${load[@]}"
done

# --- Through the worker: e2e, hot SKU, spread SKUs --------------------------------------------
if want e2e || want hot-sku || want spread; then
  reset_db
  flush_redis
  start worker "$bin/shopwire-worker"
  wait_ready worker "http://127.0.0.1:$WORKER_PORT/ready"
  for ((r = 1; r <= REPEATS; r++)); do
    if want e2e; then
      reset_db
      bench "e2e @$E2E_RATE/s #$r" e2e --url "$web" --rate "$E2E_RATE" --duration "$LOAD_SECS"
    fi
    if want hot-sku; then
      reset_db
      bench "hot-sku $HOT_BUYERS/$HOT_STOCK #$r" hot-sku --url "$web" --buyers "$HOT_BUYERS" --stock "$HOT_STOCK"
    fi
    if want spread; then
      reset_db
      bench "spread $SPREAD_BUYERS over $SPREAD_SKUS #$r" hot-sku --url "$web" --name spread \
        --skus "$SPREAD_SKUS" --buyers "$SPREAD_BUYERS" --stock 1000000 --concurrency "$INGEST_CONCURRENCY" \
        --stamps send
    fi
  done

  # VmHWM is the peak since start: the web's covers ingest saturation, the worker's the above.
  printf '{"scenario":"rss","target":"web","rss_mib":%s}\n' "$(rss_mib "$web_pid")" >>"$runs"
  printf '{"scenario":"rss","target":"worker","rss_mib":%s}\n' "$(rss_mib "$worker_pid")" >>"$runs"
  kill "$worker_pid" 2>/dev/null || true
  wait "$worker_pid" 2>/dev/null || true
fi

# --- Outbound events: a fresh worker allowed to deliver to the harness on 127.0.0.1 ----------
if want outbound; then
  reset_db
  flush_redis
  start outbound_worker env OUTBOUND_ALLOW_PRIVATE=true "$bin/shopwire-worker"
  wait_ready outbound_worker "http://127.0.0.1:$WORKER_PORT/ready"
  # shellcheck disable=SC2154 # set by `start`
  for ((r = 1; r <= REPEATS; r++)); do
    reset_db
    bench "outbound @$E2E_RATE/s, drain $OUTBOUND_BACKLOG #$r" outbound --url "$web" --rate "$E2E_RATE" \
      --duration "$LOAD_SECS" --backlog "$OUTBOUND_BACKLOG" --worker-pid "$outbound_worker_pid" \
      --settle-secs 120
  done
fi

# --- Console: a fresh console per repeat (its VmHWM is that run's peak), 50 live viewers ---
if want console; then
  for ((r = 1; r <= REPEATS; r++)); do
    reset_db
    start "console$r" env CONSOLE_PORT="$CONSOLE_PORT" "$bin/shopwire-console"
    console_pid="${pids[-1]}"
    wait_ready "console$r" "http://127.0.0.1:$CONSOLE_PORT/health"
    bench "console $CONSOLE_VIEWERS viewers @$CONSOLE_RATE claims/s #$r" console \
      --url "http://127.0.0.1:$CONSOLE_PORT" --console-pid "$console_pid" \
      --viewers "$CONSOLE_VIEWERS" --rate "$CONSOLE_RATE" --duration "$CONSOLE_SECS" \
      --skus "$CONSOLE_SKUS" --stock "$CONSOLE_STOCK"
    kill "$console_pid" 2>/dev/null || true
    wait "$console_pid" 2>/dev/null || true
  done
fi

# --- Idle connections: a fresh web per repeat with a short header timeout, 1,500 held -------
if want idle; then
  for ((r = 1; r <= REPEATS; r++)); do
    reset_db
    start "idle_web$r" env PORT="$IDLE_WEB_PORT" HTTP_HEADER_TIMEOUT_SECS="$IDLE_HEADER_TIMEOUT_SECS" \
      "$bin/shopwire-web"
    idle_web_pid="${pids[-1]}"
    wait_ready "idle_web$r" "http://127.0.0.1:$IDLE_WEB_PORT/ready"
    bench "idle $IDLE_CONNECTIONS held, @$IDLE_RATE/s + burst #$r" idle \
      --url "http://127.0.0.1:$IDLE_WEB_PORT" --web-pid "$idle_web_pid" --idle "$IDLE_CONNECTIONS" \
      --rate "$IDLE_RATE" --duration "$IDLE_SECS" --burst-concurrency "$INGEST_CONCURRENCY" \
      --burst-secs "$IDLE_BURST_SECS" --header-timeout-secs "$IDLE_HEADER_TIMEOUT_SECS"
    kill "$idle_web_pid" 2>/dev/null || true
    wait "$idle_web_pid" 2>/dev/null || true
  done
fi

# --- TikTok Shop: the fake runs inside the harness, which starts its own worker per part ------
if want tiktok-shop; then
  # No other worker may watch this database: it would see the connected shop and lease its
  # links (and call the real TikTok Shop, the app key being set). The harness picks its
  # workers' WORKER_PORT itself.
  if [[ -n "${outbound_worker_pid:-}" ]]; then
    kill "$outbound_worker_pid" 2>/dev/null || true
    wait "$outbound_worker_pid" 2>/dev/null || true
  fi
  for ((r = 1; r <= REPEATS; r++)); do
    reset_db
    flush_redis
    bench "tiktok-shop $TTS_CHANGES changes on $TTS_SKUS SKUs, $TTS_ORDERS orders @$TTS_REQUESTS_PER_MINUTE/min #$r" \
      tiktok-shop --worker-bin "$bin/shopwire-worker" --worker-log "$work/tiktok_shop_worker$r.log" \
      --skus "$TTS_SKUS" --changes "$TTS_CHANGES" \
      --change-secs "$TTS_CHANGE_SECS" --inventory-push-secs "$TTS_PUSH_SECS" \
      --orders "$TTS_ORDERS" --requests-per-minute "$TTS_REQUESTS_PER_MINUTE"
  done
fi

# --- pgbench reference: bare SELECT … FOR UPDATE + UPDATE + INSERT, hot row and spread rows ---
want pgbench && psql "$DATABASE_URL" -q -f bench/pgbench/setup.sql >/dev/null
for ((r = 1; r <= REPEATS; r++)); do
  want pgbench || break
  for variant in hot spread; do
    rows=1
    [[ "$variant" == spread ]] && rows=100
    log "run: pgbench $variant #$r"
    if out="$(pgbench -n -M prepared -f bench/pgbench/reserve.sql -D rows="$rows" \
      -c 8 -j 2 -T "$PGBENCH_SECS" "$DATABASE_URL" 2>&1)"; then
      tps="$(sed -nE 's/^tps = ([0-9.]+) .*/\1/p' <<<"$out" | tail -n1)"
      printf '{"scenario":"pgbench","target":"%s","throughput":%s,"rows":%s}\n' \
        "$variant" "${tps:-0}" "$rows" >>"$runs"
    else
      printf '%s\n' "$out" >>"$work/pgbench.log"
      failures+=("pgbench $variant #$r")
    fi
  done
done

# --- Results ----------------------------------------------------------------------------------
cp "$runs" "$results/latest.jsonl"
table="$("$bin/shopwire-bench" table "$runs")"
cpu="$(sed -nE 's/^model name\s*: //p' /proc/cpuinfo | head -n1)"
mem="$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates migrations Cargo.toml Cargo.lock || echo '+uncommitted changes')"
{
  printf '# Benchmark results\n\n'
  printf -- '- Date: %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
  printf -- '- Commit: %s\n' "$commit"
  if [[ "${BUILD:-1}" != 1 ]]; then
    built=()
    for b in "${binaries[@]}"; do
      built+=("${b#shopwire-} built $(date -u -r "$bin/$b" '+%H:%M UTC')")
    done
    printf -- '- BUILD=0: binaries not rebuilt; %s\n' "$(IFS=';'; echo "${built[*]}" | sed 's/;/, /g')"
  fi
  printf -- '- Machine: %s cores (nproc), %s, %s RAM, %s\n' "$(nproc)" "$cpu" "$mem" "$(uname -sr)"
  printf -- '- Postgres %s, Redis %s\n' \
    "$(psql "$DATABASE_URL" -tAc 'show server_version')" \
    "$(redis-cli -u "$REDIS_URL" info server | sed -nE 's/^redis_version:(.*)\r?$/\1/p' | tr -d '\r')"
  printf -- '- Runs: REPEATS=%s, QUICK=%s (load runs of %s s, %s ingest connections, pgbench -c 8 -j 2 -T %s)\n' \
    "$REPEATS" "$QUICK" "$LOAD_SECS" "$INGEST_CONCURRENCY" "$PGBENCH_SECS"
  printf -- '- Worker claim settings: CLAIM_ORDER_WINDOW_MS=%s, WAITLIST_MAX=%s\n' \
    "$CLAIM_ORDER_WINDOW_MS" "$WAITLIST_MAX"
  [[ "$SCENARIOS" == all ]] || printf -- '- Scenarios: %s only\n' "$SCENARIOS"
  if want outbound; then
    printf -- '- Outbound: a fresh worker (OUTBOUND_ALLOW_PRIVATE=true, WORKER_CONCURRENCY=%s) delivering to\n' \
      "${WORKER_CONCURRENCY:-8}"
    printf '  the receiver inside shopwire-bench; claims at %s/s for %s s, then a backlog of %s events\n' \
      "$E2E_RATE" "$LOAD_SECS" "$OUTBOUND_BACKLOG"
  fi
  if want console; then
    printf -- '- Console: a fresh shopwire-console per run; %s viewers (SSE) of one live; claims committed by\n' \
      "$CONSOLE_VIEWERS"
    printf '  the harness at %s/s for %s s over %s SKUs × %s units (WAITLIST_MAX=%s), timed commit → each viewer\n' \
      "$CONSOLE_RATE" "$CONSOLE_SECS" "$CONSOLE_SKUS" "$CONSOLE_STOCK" "$WAITLIST_MAX"
  fi
  if want tiktok-shop; then
    printf -- '- TikTok Shop: the fake in the harness (limited to %s/min), a fresh worker per part; %s changes\n' \
      "$TTS_REQUESTS_PER_MINUTE" "$TTS_CHANGES"
    printf '  on %s linked SKUs over %s s (TIKTOK_SHOP_INVENTORY_PUSH_SECS=%s), then %s orders reconciled\n' \
      "$TTS_SKUS" "$TTS_CHANGE_SECS" "$TTS_PUSH_SECS" "$TTS_ORDERS"
  fi
  if want idle; then
    printf -- '- Idle: a fresh shopwire-web per run with HTTP_HEADER_TIMEOUT_SECS=%s; %s idle connections\n' \
      "$IDLE_HEADER_TIMEOUT_SECS" "$IDLE_CONNECTIONS"
    printf '  (half silent, half trickling 1 B/s, re-opened when closed); deliveries on new connections at\n'
    printf '  %s/s for %s s and a %s s burst of %s senders, without then with them; ulimit -n %s (hard %s)\n' \
      "$IDLE_RATE" "$IDLE_SECS" "$IDLE_BURST_SECS" "$INGEST_CONCURRENCY" "$fd_soft" "$fd_hard"
  fi
  printf -- '- Load generator, servers, Postgres and Redis on the same machine; shared machines are noisy:\n'
  printf '  compare ratios from the same run, not absolute figures across runs.\n\n'
  printf '%s\n\n' "$table"
  printf 'Reproduce: `%sscripts/bench.sh` (raw runs: `bench/results/latest.jsonl`; see `bench/README.md`).\n' \
    "$([[ "$QUICK" == 1 ]] && echo 'QUICK=1 ')$([[ "$SCENARIOS" != all ]] && echo "SCENARIOS=$SCENARIOS ")"
  if ((${#failures[@]} > 0)); then
    printf '\nFailed runs (errors or wrong counts; see the JSON lines): %s\n' "$(IFS=';'; echo "${failures[*]}")"
  fi
} >"$results/latest.md"
cat "$results/latest.md"

if ((${#failures[@]} > 0)); then
  die "${#failures[@]} run(s) failed: $(IFS=';'; echo "${failures[*]}")"
fi
