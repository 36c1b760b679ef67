#!/usr/bin/env bash
# Run the whole Shopwire test suite against real Postgres and Redis (found or started).
# Extra arguments go to the test runner (cargo nextest run, else cargo test).
#
#   scripts/test.sh [runner args...]      e.g. scripts/test.sh -p shopwire-web
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

# #[sqlx::test] creates a fresh database per test on DATABASE_URL's server; the test helpers
# read REDIS_URL and isolate themselves with a key prefix per test.
ensure_postgres test
ensure_redis
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

if cargo nextest --version >/dev/null 2>&1; then
  runner=(cargo nextest run --workspace --all-targets --no-fail-fast)
else
  runner=(cargo test --workspace --all-targets --no-fail-fast)
fi
log "${runner[*]} $*"
exec "${runner[@]}" "$@"
