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

# The outbound sender's signatures are checked by the official Python Standard Webhooks
# library (tests/standardwebhooks/): a venv with its pinned version, made again when the pin
# changes. SHOPWIRE_TEST_PYTHON set by the caller is used as it is.
if [[ -z "${SHOPWIRE_TEST_PYTHON:-}" ]]; then
  requirements=tests/standardwebhooks/requirements.txt venv=.venv-test
  if ! cmp -s "$requirements" "$venv/requirements.txt" ||
    ! "$venv/bin/python" -c 'import standardwebhooks' 2>/dev/null; then
    have python3 || die "python3 is needed to verify outbound signatures ($requirements)"
    log "python venv $venv from $requirements"
    python3 -m venv --clear "$venv" ||
      die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" ||
      die "pip could not install $requirements"
    cp "$requirements" "$venv/requirements.txt"
  fi
  export SHOPWIRE_TEST_PYTHON="$PWD/$venv/bin/python"
fi

if cargo nextest --version >/dev/null 2>&1; then
  runner=(cargo nextest run --workspace --all-targets --no-fail-fast)
else
  runner=(cargo test --workspace --all-targets --no-fail-fast)
fi
log "${runner[*]} $*"
exec "${runner[@]}" "$@"
