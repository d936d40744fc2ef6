# shellcheck shell=bash
# Throw-away PostgreSQL and Redis for the test suite, on loopback.
#
#   source .ci/services.sh      # installs what is missing (Debian, as root), starts both,
#                               # exports RAMPARTS_TEST_POSTGRES_URL, RAMPARTS_TEST_REDIS_URL
#                               # and RAMPARTS_REQUIRE_SERVICES=1
#   ...run the tests...
#   ci_services_stop            # stops both and deletes their data
#
# Knobs: RAMPARTS_CI_STATE (parent of the data directories; default a fresh temp dir),
# RAMPARTS_CI_PG_PORT (55432), RAMPARTS_CI_REDIS_PORT (56379): a busy port moves on to
# the next free one. Data lives in a fresh directory under RAMPARTS_CI_STATE on every
# run, so a state directory can be reused and nothing in it is ever overwritten.

# Strict mode while this file runs; the caller's options come back at the end, so that
# sourcing it from an interactive shell does not leave `set -e` behind.
# (A command substitution does not see errexit, so `set +o` alone would lose it.)
_ci_saved_opts="$(set +o)"
case "$-" in *e*) _ci_saved_errexit=1 ;; *) _ci_saved_errexit="" ;; esac
set -euo pipefail

_CI_TMP_PARENT=""
if [ -n "${RAMPARTS_CI_STATE:-}" ]; then
  _ci_parent="$RAMPARTS_CI_STATE"
  mkdir -p "$_ci_parent"
else
  _ci_parent="$(mktemp -d)"
  _CI_TMP_PARENT="$_ci_parent"
fi
CI_SERVICES_DIR="$(mktemp -d "$_ci_parent/services.XXXXXX")"
# PostgreSQL runs as another user and must be able to reach its directory below: add
# only the search bit (mktemp makes both directories 0700), never loosen anything else.
chmod o+x "$_ci_parent" "$CI_SERVICES_DIR"

_ci_log() { echo "services: $*" >&2; }

_ci_apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    _ci_log "$* missing and not root: install it or run as root"
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # The package lists of a fresh image may be stale or absent: update only if needed.
  if ! apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  fi
}

_ci_pg_bin() {
  local d
  # Newest major version first.
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5nr); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/pg_isready" ]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

_ci_port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

_ci_free_port() {
  local port="$1" tries=0
  while _ci_port_busy "$port"; do
    tries=$((tries + 1))
    if [ "$tries" -ge 50 ]; then
      _ci_log "no free port in $1..$port"
      return 1
    fi
    port=$((port + 1))
  done
  echo "$port"
}

# Defined before anything starts, so that a caller's trap can always run it.
ci_services_stop() {
  if [ -n "${_CI_PG_DATA:-}" ] && [ -f "$_CI_PG_DATA/postmaster.pid" ]; then
    _ci_as_pg "$_CI_PG_BIN/pg_ctl" -D "$_CI_PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [ -f "$CI_SERVICES_DIR/redis.pid" ]; then
    kill "$(cat "$CI_SERVICES_DIR/redis.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do
      [ -f "$CI_SERVICES_DIR/redis.pid" ] || break
      sleep 0.1
    done
  fi
  rm -rf "$CI_SERVICES_DIR"
  if [ -n "$_CI_TMP_PARENT" ]; then rmdir "$_CI_TMP_PARENT" 2>/dev/null || true; fi
}

_ci_start() {
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    _ci_log "installing redis-server"
    _ci_apt_install redis-server || return 1
  fi
  if ! _ci_pg_bin >/dev/null; then
    _ci_log "installing postgresql"
    _ci_apt_install postgresql || return 1
  fi
  _CI_PG_BIN="$(_ci_pg_bin)" || { _ci_log "no initdb in /usr/lib/postgresql/*/bin"; return 1; }
  # The Spark engine's test runs Spark locally, which needs a Java runtime (17+).
  if ! command -v java >/dev/null 2>&1; then
    _ci_log "installing a Java runtime for the Spark tests"
    _ci_apt_install openjdk-17-jre-headless || return 1
  fi
  # The HTML posture report's browser test opens the report in headless Chromium.
  if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    _ci_log "installing chromium for the HTML report's browser test"
    _ci_apt_install chromium || return 1
  fi

  # initdb refuses to run as root: as root, use the postgres system user (the Debian
  # package creates it) or create one; otherwise run as ourselves.
  if [ "$(id -u)" -eq 0 ]; then
    _CI_PG_USER=postgres
    id -u "$_CI_PG_USER" >/dev/null 2>&1 ||
      useradd --system --no-create-home --shell /usr/sbin/nologin "$_CI_PG_USER" || return 1
    _ci_as_pg() { runuser -u "$_CI_PG_USER" -- "$@"; }
  else
    _CI_PG_USER="$(id -un)"
    _ci_as_pg() { "$@"; }
  fi

  local pg_port redis_port pg_dir="$CI_SERVICES_DIR/pg"
  pg_port="$(_ci_free_port "${RAMPARTS_CI_PG_PORT:-55432}")" || return 1
  redis_port="$(_ci_free_port "${RAMPARTS_CI_REDIS_PORT:-56379}")" || return 1

  mkdir -p "$pg_dir" && chown "$_CI_PG_USER" "$pg_dir" || return 1
  _ci_as_pg test -w "$pg_dir" ||
    { _ci_log "user $_CI_PG_USER cannot reach $pg_dir: pick RAMPARTS_CI_STATE elsewhere"; return 1; }
  _CI_PG_DATA="$pg_dir/data"
  _ci_as_pg "$_CI_PG_BIN/initdb" -D "$_CI_PG_DATA" -U "$_CI_PG_USER" --auth=trust -E UTF8 \
    --no-sync >"$CI_SERVICES_DIR/initdb.log" 2>&1 ||
    { _ci_log "initdb failed:"; cat "$CI_SERVICES_DIR/initdb.log" >&2; return 1; }
  # fsync off: the data is thrown away after the run, and tests run faster without it.
  # TCP on 127.0.0.1 only; the socket stays in our directory, not /var/run/postgresql.
  _ci_as_pg "$_CI_PG_BIN/pg_ctl" -D "$_CI_PG_DATA" -l "$pg_dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off -c max_connections=200" \
    start >/dev/null ||
    { _ci_log "PostgreSQL did not start:"; tail -n 20 "$pg_dir/server.log" >&2; return 1; }

  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$CI_SERVICES_DIR/redis.pid" \
    --logfile "$CI_SERVICES_DIR/redis.log" --dir "$CI_SERVICES_DIR" ||
    { _ci_log "redis-server failed to start"; return 1; }

  local ok=""
  for _ in $(seq 1 100); do
    if redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.1
  done
  [ -n "$ok" ] || { _ci_log "Redis did not start:"; tail -n 20 "$CI_SERVICES_DIR/redis.log" >&2; return 1; }
  "$_CI_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$pg_port" -t 30 ||
    { _ci_log "PostgreSQL is not accepting connections"; return 1; }

  export RAMPARTS_TEST_POSTGRES_URL="postgresql://$_CI_PG_USER@127.0.0.1:$pg_port/postgres"
  export RAMPARTS_TEST_REDIS_URL="redis://127.0.0.1:$redis_port/0"
  export RAMPARTS_REQUIRE_SERVICES=1
  _ci_log "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port (data in $CI_SERVICES_DIR)"
}

if _ci_start; then
  _ci_status=0
else
  _ci_status=1
  ci_services_stop
fi
eval "$_ci_saved_opts"
if [ -n "$_ci_saved_errexit" ]; then set -e; else set +e; fi
unset _ci_saved_opts _ci_saved_errexit _ci_parent
# `return` ends a sourced file with a status; the caller's `set -e` then stops on failure.
return "$_ci_status" 2>/dev/null || exit "$_ci_status"
