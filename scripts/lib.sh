# shellcheck shell=bash
# Shared helpers for scripts/dev.sh and scripts/test.sh: logging and local service discovery
# (Postgres, Redis). Source this file; it is not meant to be run.
#
#   ensure_postgres DBNAME   uses DATABASE_URL if set, else postgres://postgres@127.0.0.1:5432/DBNAME
#                            (starting a local cluster if needed); creates the database if
#                            missing; exports DATABASE_URL.
#   ensure_redis             uses REDIS_URL if set, else redis://127.0.0.1:6379 (starting a
#                            local redis-server if needed); exports REDIS_URL.

LOCAL_PG_HOST=127.0.0.1
LOCAL_PG_PORT=5432
LOCAL_REDIS_HOST=127.0.0.1
LOCAL_REDIS_PORT=6379

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

have() { command -v "$1" >/dev/null 2>&1; }

# mask_url URL: print URL with its password (if any) replaced by ***.
mask_url() {
  printf '%s\n' "$1" | sed -E 's#^([A-Za-z][A-Za-z0-9+.-]*://[^:/@]*):[^@/]*@#\1:***@#'
}

# wait_until SECONDS COMMAND...: retry COMMAND every half second until it succeeds or time runs out.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# --- Postgres ---------------------------------------------------------------------------------

local_postgres_up() {
  if have pg_isready; then
    pg_isready -q -h "$LOCAL_PG_HOST" -p "$LOCAL_PG_PORT" >/dev/null 2>&1
  else
    (exec 3<>"/dev/tcp/$LOCAL_PG_HOST/$LOCAL_PG_PORT") 2>/dev/null
  fi
}

# Start the first Debian/Ubuntu cluster found under /etc/postgresql, if there is one.
start_local_postgres() {
  have pg_ctlcluster || return 1
  local versions=(/etc/postgresql/*/main)
  [[ -d "${versions[0]}" ]] || return 1
  local version
  version="$(basename "$(dirname "${versions[0]}")")"
  log "starting local Postgres cluster $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || return 1
  wait_until 20 local_postgres_up
}

# create_database_if_missing URL: create URL's database through the `postgres` database on
# the same server, unless URL already connects.
create_database_if_missing() {
  local url="$1"
  if ! have psql; then
    warn "psql not found; assuming the database in $(mask_url "$url") exists"
    return 0
  fi
  if psql "$url" -tAc 'select 1' >/dev/null 2>&1; then
    return 0
  fi

  local base="${url%%\?*}" query=""
  [[ "$url" == *\?* ]] && query="?${url#*\?}"
  local rest="${base#*://}"
  [[ "$rest" == */* ]] || die "cannot connect to $(mask_url "$url") and it names no database"
  local db="${base##*/}"
  [[ "$db" =~ ^[A-Za-z0-9_-]+$ ]] || die "cannot connect to $(mask_url "$url") (database name '$db' not created automatically)"
  local admin_url="${base%/*}/postgres${query}"

  psql "$admin_url" -tAc 'select 1' >/dev/null 2>&1 ||
    die "cannot connect to Postgres at $(mask_url "$admin_url"); set DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/$db"
  if [[ "$(psql "$admin_url" -tAc "select 1 from pg_database where datname='$db'")" != 1 ]]; then
    log "creating database $db"
    # A concurrent run may win the race; only fail if the database still does not exist.
    psql "$admin_url" -qc "CREATE DATABASE \"$db\"" >/dev/null 2>&1 ||
      [[ "$(psql "$admin_url" -tAc "select 1 from pg_database where datname='$db'")" == 1 ]] ||
      die "could not create database $db on $(mask_url "$admin_url")"
  fi
  psql "$url" -tAc 'select 1' >/dev/null 2>&1 || die "cannot connect to $(mask_url "$url")"
}

ensure_postgres() {
  local db="${1:?ensure_postgres needs a database name}"
  if [[ -z "${DATABASE_URL:-}" ]]; then
    local_postgres_up || start_local_postgres ||
      die "no Postgres on $LOCAL_PG_HOST:$LOCAL_PG_PORT; start one or set DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/$db"
    DATABASE_URL="postgres://postgres@$LOCAL_PG_HOST:$LOCAL_PG_PORT/$db"
  fi
  export DATABASE_URL
  create_database_if_missing "$DATABASE_URL"
  log "postgres: $(mask_url "$DATABASE_URL")"
}

# --- Redis ------------------------------------------------------------------------------------

local_redis_up() {
  if have redis-cli; then
    [[ "$(redis-cli -h "$LOCAL_REDIS_HOST" -p "$LOCAL_REDIS_PORT" ping 2>/dev/null)" == PONG ]]
  else
    (
      exec 3<>"/dev/tcp/$LOCAL_REDIS_HOST/$LOCAL_REDIS_PORT" || exit 1
      printf 'PING\r\n' >&3
      IFS= read -r -t 2 reply <&3 && [[ "$reply" == +PONG* ]]
    ) 2>/dev/null
  fi
}

start_local_redis() {
  have redis-server || return 1
  log "starting redis-server on $LOCAL_REDIS_HOST:$LOCAL_REDIS_PORT (left running; stop it with: redis-cli shutdown)"
  redis-server --daemonize yes --bind "$LOCAL_REDIS_HOST" --port "$LOCAL_REDIS_PORT" \
    --save "" --appendonly no >&2 || return 1
  wait_until 10 local_redis_up
}

ensure_redis() {
  if [[ -z "${REDIS_URL:-}" ]]; then
    local_redis_up || start_local_redis ||
      die "no Redis on $LOCAL_REDIS_HOST:$LOCAL_REDIS_PORT; start one or set REDIS_URL=redis://HOST:6379"
    REDIS_URL="redis://$LOCAL_REDIS_HOST:$LOCAL_REDIS_PORT"
  elif have redis-cli && [[ "$(redis-cli -u "$REDIS_URL" ping 2>/dev/null)" != PONG ]]; then
    warn "REDIS_URL $(mask_url "$REDIS_URL") does not answer PING"
  fi
  export REDIS_URL
  log "redis: $(mask_url "$REDIS_URL")"
}
