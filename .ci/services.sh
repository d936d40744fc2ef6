# shellcheck shell=bash
# Sourced by .ci/run: installs (if missing) and starts throw-away PostgreSQL and Redis
# servers on loopback, exports their URLs for the tests, and defines ci_services_stop.
# Requires root for apt-get on a fresh Debian machine; PostgreSQL runs as a non-root user.

CI_STATE="${RAMPARTS_CI_STATE:-$(mktemp -d)}"
PG_PORT="${RAMPARTS_CI_PG_PORT:-55432}"
REDIS_PORT="${RAMPARTS_CI_REDIS_PORT:-56379}"
mkdir -p "$CI_STATE"

_ci_apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "services: $* missing and not root; cannot install" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "$@" >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null
    apt-get install -y -qq "$@" >/dev/null
  }
}

_ci_pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

if ! command -v redis-server >/dev/null 2>&1; then
  echo "services: installing redis-server"
  _ci_apt_install redis-server
fi
if ! _ci_pg_bin >/dev/null; then
  echo "services: installing postgresql"
  _ci_apt_install postgresql
fi
PG_BIN="$(_ci_pg_bin)"

# initdb refuses to run as root: use the postgres system user (created by the package)
# or a throw-away one.
PG_USER=postgres
if [ "$(id -u)" -eq 0 ]; then
  id -u "$PG_USER" >/dev/null 2>&1 || useradd --system --no-create-home "$PG_USER"
  _ci_as_pg() { su -s /bin/sh "$PG_USER" -c "$*"; }
else
  PG_USER="$(id -un)"
  _ci_as_pg() { sh -c "$*"; }
fi

PG_DATA="$CI_STATE/pg"
mkdir -p "$PG_DATA" "$CI_STATE/pgsock"
chmod 777 "$CI_STATE" "$CI_STATE/pgsock"
chown -R "$PG_USER" "$PG_DATA" "$CI_STATE/pgsock" 2>/dev/null || true
_ci_as_pg "'$PG_BIN/initdb' -D '$PG_DATA' -U '$PG_USER' --auth=trust -E UTF8 >'$CI_STATE/initdb.log' 2>&1"
_ci_as_pg "'$PG_BIN/pg_ctl' -D '$PG_DATA' -l '$CI_STATE/pg.log' -w -t 60 \
  -o \"-c listen_addresses=127.0.0.1 -p $PG_PORT -k $CI_STATE/pgsock -c fsync=off -c max_connections=200\" start >/dev/null"

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize yes --pidfile "$CI_STATE/redis.pid" --logfile "$CI_STATE/redis.log" --dir "$CI_STATE"

for _ in $(seq 1 100); do
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then break; fi
  sleep 0.1
done
redis-cli -p "$REDIS_PORT" ping >/dev/null || { echo "services: redis did not start" >&2; return 1; }
"$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -t 30 >/dev/null || { echo "services: postgres did not start" >&2; return 1; }

export RAMPARTS_TEST_POSTGRES_URL="postgresql://$PG_USER@127.0.0.1:$PG_PORT/postgres"
export RAMPARTS_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export RAMPARTS_REQUIRE_SERVICES=1
echo "services: PostgreSQL on 127.0.0.1:$PG_PORT, Redis on 127.0.0.1:$REDIS_PORT"

ci_services_stop() {
  _ci_as_pg "'$PG_BIN/pg_ctl' -D '$PG_DATA' -m fast stop >/dev/null 2>&1" || true
  if [ -f "$CI_STATE/redis.pid" ]; then kill "$(cat "$CI_STATE/redis.pid")" 2>/dev/null || true; fi
}
