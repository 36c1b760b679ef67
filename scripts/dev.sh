#!/usr/bin/env bash
# Run the whole Shopwire system locally in the foreground: Postgres + Redis (found or started),
# migrations, demo catalog, shopwire-web, shopwire-worker and shopwire-console (the seller
# console; a dev-only password is made and printed unless CONSOLE_PASSWORD is set). Ctrl-C
# stops all three.
#
#   scripts/dev.sh [--release]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

cargo_profile=dev
out_dir=debug
for arg in "$@"; do
  case "$arg" in
    --release)
      cargo_profile=release
      out_dir=release
      ;;
    -h | --help)
      sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown argument: $arg (usage: scripts/dev.sh [--release])" ;;
  esac
done
have curl || die "curl is required (it polls /ready)"

ensure_postgres shopwire
ensure_redis

# Development defaults, only where the caller has not set a value. The secrets are demo values.
export APP_ENV="${APP_ENV:-development}"
export RUST_LOG="${RUST_LOG:-info}"
export PORT="${PORT:-8080}"
export WORKER_PORT="${WORKER_PORT:-9091}"
export STRIPE_WEBHOOK_SECRETS="${STRIPE_WEBHOOK_SECRETS:-whsec_dev_secret}"
export TIKTOK_SHOP_APP_KEY="${TIKTOK_SHOP_APP_KEY:-dev_app_key}"
export TIKTOK_SHOP_APP_SECRETS="${TIKTOK_SHOP_APP_SECRETS:-dev_app_secret}"
export TIKTOK_WEBHOOK_SECRETS="${TIKTOK_WEBHOOK_SECRETS:-dev_tiktok_secret}"
export COMMENTS_WEBHOOK_SECRETS="${COMMENTS_WEBHOOK_SECRETS:-dev_comments_secret}"
export CONSOLE_PORT="${CONSOLE_PORT:-8081}"
if [[ -n "${CONSOLE_PASSWORD:-}" ]]; then
  console_password_note="CONSOLE_PASSWORD from your environment"
else
  # A fresh dev-only password per run (printed below); set CONSOLE_PASSWORD to choose one.
  CONSOLE_PASSWORD="dev-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  console_password_note="password $CONSOLE_PASSWORD (dev only, new each run)"
fi
export CONSOLE_PASSWORD

log "cargo build --bins --profile $cargo_profile"
cargo build --bins --profile "$cargo_profile"
bin="${CARGO_TARGET_DIR:-target}/$out_dir"

log "applying migrations"
"$bin/shopwire-admin" migrate
log "loading the demo catalog"
if ! "$bin/shopwire-admin" seed --demo; then
  warn "shopwire-admin seed --demo failed (not implemented yet?); continuing without demo data"
fi

demo_dir="$(mktemp -d "${TMPDIR:-/tmp}/shopwire-dev.XXXXXX")"
pids=()
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
  trap - EXIT INT TERM
  if ((${#pids[@]} > 0)); then
    log "stopping shopwire-web, shopwire-worker and shopwire-console"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  rm -rf "$demo_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$bin/shopwire-web" &
pids+=("$!")
"$bin/shopwire-worker" &
pids+=("$!")
"$bin/shopwire-console" &
pids+=("$!")

web_ready() { curl -fsS -o /dev/null "http://127.0.0.1:$PORT/ready" 2>/dev/null; }
# shellcheck disable=SC2317 # called through wait_until
web_ready_or_dead() { web_ready || ! kill -0 "${pids[0]}" 2>/dev/null; }
log "waiting for http://127.0.0.1:$PORT/ready"
wait_until 60 web_ready_or_dead || true
kill -0 "${pids[0]}" 2>/dev/null || die "shopwire-web exited during startup (see its log above)"
if ! web_ready; then
  warn "/ready still failing after 60 s: $(curl -sS "http://127.0.0.1:$PORT/ready" 2>&1 || true)"
fi
console_up() { curl -fsS -o /dev/null "http://127.0.0.1:$CONSOLE_PORT/health" 2>/dev/null; }
# shellcheck disable=SC2317 # called through wait_until
console_up_or_dead() { console_up || ! kill -0 "${pids[2]}" 2>/dev/null; }
wait_until 30 console_up_or_dead || true
kill -0 "${pids[2]}" 2>/dev/null || die "shopwire-console exited during startup (see its log above)"
console_up || warn "the console's /health still failing after 30 s"

# A demo live comment, plus the environment the admin CLI needs to sign and send it.
demo_id="demo-$(printf '%04x%04x' "$RANDOM" "$RANDOM")"
cat >"$demo_dir/comment.json" <<EOF
{"comment_id":"$demo_id","streamer":"demo_streamer","client":"viewer_1","message":"I'll take it!","timestamp":"$(date -u +%Y-%m-%dT%H:%M:%SZ)"}
EOF
(
  umask 077
  for name in DATABASE_URL REDIS_URL APP_ENV RUST_LOG PORT WORKER_PORT STRIPE_WEBHOOK_SECRETS \
    TIKTOK_SHOP_APP_KEY TIKTOK_SHOP_APP_SECRETS TIKTOK_WEBHOOK_SECRETS COMMENTS_WEBHOOK_SECRETS; do
    printf 'export %s=%q\n' "$name" "${!name}"
  done >"$demo_dir/env"
)

cat <<EOF

  Shopwire is running ($APP_ENV, $cargo_profile build)
    web       http://127.0.0.1:$PORT      /health /ready /metrics  POST /webhooks/{stripe,tiktok-shop,tiktok,comments}
    worker    http://127.0.0.1:$WORKER_PORT      /health /ready /metrics
    console   http://127.0.0.1:$CONSOLE_PORT      seller console; sign in with the $console_password_note
              live page of the demo streamer: http://127.0.0.1:$CONSOLE_PORT/live/demo_streamer
    postgres  $(mask_url "$DATABASE_URL")
    redis     $(mask_url "$REDIS_URL")

  Send a demo live comment (from another terminal, in $PWD):
    source $demo_dir/env
    $bin/shopwire-admin send comments $demo_dir/comment.json
  seed --demo pinned a product for demo_streamer, so the comment becomes a pending order:
    $bin/shopwire-admin events list
    $bin/shopwire-admin orders list
    $bin/shopwire-admin orders show <ORD-…>

  Ctrl-C stops web, worker and console.

EOF

# Run until Ctrl-C or until any process exits; the EXIT trap stops the others.
status=0
if ((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 3))); then
  wait -n || status=$?
  warn "a Shopwire process exited (status $status); stopping the others"
else
  wait || status=$?
fi
exit "$status"
