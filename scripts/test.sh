#!/usr/bin/env bash
# Run the whole Shopwire test suite against real Postgres and Redis (found or started): the
# Rust suite, then the seller console's browser tests (tests/browser, headless Chromium
# against the real binaries). Extra arguments go to the Rust test runner (cargo nextest run,
# else cargo test). The exit status is non-zero when either part fails.
#
#   scripts/test.sh [runner args...]      e.g. scripts/test.sh -p shopwire-web
#
# The browser tests need node 20+, npm and Chromium (/usr/bin/chromium, or CHROMIUM_PATH;
# installed with apt-get when missing and running as root). Outside CI,
# SHOPWIRE_SKIP_BROWSER=1 skips them; in CI (CI=true) they always run.
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
rust_status=0
"${runner[@]}" "$@" || rust_status=$?

# --- browser tests (tests/browser) -------------------------------------------------------------

browser_dir=tests/browser
console_bins=(shopwire-web shopwire-worker shopwire-console shopwire-admin)

# Debian's Chromium: Playwright's own browser download is not used (nor reachable in CI).
ensure_chromium() {
  if [[ -n "${CHROMIUM_PATH:-}" ]]; then
    [[ -x "$CHROMIUM_PATH" ]] || die "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable"
    return 0
  fi
  [[ -x /usr/bin/chromium ]] && return 0
  if [[ "$(id -u)" == 0 ]] && have apt-get; then
    log "installing Chromium for the browser tests (apt-get install chromium)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq chromium >&2 ||
      { apt-get update -qq >&2 && apt-get install -y -qq chromium >&2; } ||
      die "apt-get could not install chromium (needed by the browser tests in $browser_dir)"
    [[ -x /usr/bin/chromium ]] || die "apt-get installed chromium but /usr/bin/chromium is missing"
  else
    die "the browser tests need Chromium at /usr/bin/chromium: install it (Debian/Ubuntu: sudo apt-get install chromium), set CHROMIUM_PATH, or skip them with SHOPWIRE_SKIP_BROWSER=1"
  fi
}

# npm ci when node_modules is missing or was installed from another lockfile.
ensure_node_modules() {
  have node || die "the browser tests need node 20 or newer (and npm); install Node.js or skip them with SHOPWIRE_SKIP_BROWSER=1"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  ((major >= 20)) || die "the browser tests need node 20 or newer, found $(node --version)"
  local lock="$browser_dir/package-lock.json" stamp="$browser_dir/node_modules/.shopwire-package-lock.json"
  if ! cmp -s "$lock" "$stamp" || [[ ! -f "$browser_dir/node_modules/playwright-core/package.json" ]]; then
    have npm || die "npm is needed to install $browser_dir's packages"
    log "npm ci in $browser_dir"
    (cd "$browser_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts >&2) ||
      die "npm ci failed in $browser_dir"
    cp "$lock" "$stamp"
  fi
}

run_browser_tests() {
  have psql || die "the browser tests need psql (Debian: apt-get install postgresql-client)"
  local build=(cargo build)
  for bin in "${console_bins[@]}"; do build+=(-p "$bin"); done
  log "${build[*]}"
  "${build[@]}" || return $?
  ensure_chromium
  ensure_node_modules
  local files=("$browser_dir"/*.test.mjs)
  log "node --test ${files[*]}"
  node --test "${files[@]}"
}

browser_status=0
if [[ "${SHOPWIRE_SKIP_BROWSER:-}" == 1 && "${CI:-}" != true ]]; then
  log "SHOPWIRE_SKIP_BROWSER=1: skipping the browser tests in $browser_dir"
  browser_result=skipped
else
  if [[ "${SHOPWIRE_SKIP_BROWSER:-}" == 1 ]]; then
    warn "SHOPWIRE_SKIP_BROWSER=1 is ignored in CI: the browser tests always run there"
  fi
  # A subshell, so that a `die` in it still reaches the summary below.
  (run_browser_tests) || browser_status=$?
  browser_result=$([[ $browser_status == 0 ]] && echo passed || echo "failed ($browser_status)")
fi

log "rust suite: $([[ $rust_status == 0 ]] && echo passed || echo "failed ($rust_status)"); browser tests: $browser_result"
((rust_status == 0)) || exit "$rust_status"
exit "$browser_status"
