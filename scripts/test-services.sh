#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL 15 (+ pgvector) and Redis, then stops both.
#
#   bash scripts/test-services.sh <command> [args...]
#   bash scripts/test-services.sh npx vitest run test/services.test.ts
#   bash scripts/test-services.sh bash          # a shell with DATABASE_URL/REDIS_URL set
#
# - If DATABASE_URL and REDIS_URL are both set already, they are used as they are and nothing is
#   installed or started.
# - Otherwise whatever is missing is installed with apt (Debian 12): postgresql (15), redis-server,
#   and pgvector, which Debian 12 does not package: it is built from the newer release's source
#   package against postgresql-server-dev-15. Steps already done are skipped, so later runs are fast.
# - PostgreSQL runs from `initdb` in a temporary directory (as the `postgres` user when we are root),
#   Redis with persistence off; both on 127.0.0.1 and free ports, both removed on exit, failure or Ctrl-C.
# - The command sees DATABASE_URL=postgres://movebot:movebot@127.0.0.1:<port>/movebot_test and
#   REDIS_URL=redis://127.0.0.1:<port>, and TEST_PG_BIN (the PostgreSQL binaries, from which outage
#   drills start servers of their own to stop and restart); this script exits with the command's exit code.
#
# Knobs: PG_MAJOR (default 15), PGVECTOR_SRC_SUITE (Debian suite to take the pgvector source from,
# default trixie), KEEP_SERVICE_LOGS=1 (print the server logs on exit).
set -euo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: bash scripts/test-services.sh <command> [args...]" >&2
  exit 64
fi

PG_MAJOR="${PG_MAJOR:-15}"
PG_BIN="/usr/lib/postgresql/${PG_MAJOR}/bin"
# Outage drills start (and stop, and restart) PostgreSQL servers of their own from these binaries:
# stopping the shared one would fail the test files running beside them.
export TEST_PG_BIN="${TEST_PG_BIN:-$PG_BIN}"
PG_CONFIG="${PG_BIN}/pg_config"
PGVECTOR_SRC_SUITE="${PGVECTOR_SRC_SUITE:-trixie}"
VECTOR_CONTROL="/usr/share/postgresql/${PG_MAJOR}/extension/vector.control"
# pgxs.mk ships with the client package; the server headers are what postgresql-server-dev adds.
PG_SERVER_HEADER="/usr/include/postgresql/${PG_MAJOR}/server/postgres.h"
DB_NAME=movebot_test
DB_USER=movebot
DB_PASSWORD=movebot

log() { printf '[test-services] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root (or sudo) to run: $*"
  fi
}

# ---------------------------------------------------------------------------------------------
# Installation
# ---------------------------------------------------------------------------------------------

apt_get() {
  local attempt
  for attempt in 1 2 3; do
    if as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
      -o Acquire::Retries=3 -o DPkg::Lock::Timeout=300 \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"; then
      return 0
    fi
    log "apt-get $1 failed (attempt ${attempt}/3), retrying in $((attempt * 5))s"
    sleep $((attempt * 5))
  done
  die "apt-get $* failed three times"
}

# Adds a deb-src entry for PGVECTOR_SRC_SUITE, copying the mirror and keyring of this machine's own
# Debian entry (deb822 .sources first, one-line sources.list as a fallback).
ensure_pgvector_deb_src() {
  local target_sources=/etc/apt/sources.list.d/movebot-pgvector-src.sources
  local target_list=/etc/apt/sources.list.d/movebot-pgvector-src.list
  [[ -f $target_sources || -f $target_list ]] && return 0
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [[ -n $codename ]] || die "cannot read VERSION_CODENAME from /etc/os-release"

  local file stanza=''
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -f $file ]] || continue
    # First stanza whose Suites list the release itself (not -security/-updates only).
    stanza=$(awk -v RS='' -v cn="$codename" '
      $0 ~ ("Suites:[^\n]*(^|[ \t])" cn "([ \t\n]|$)") && $0 ~ /Types:[^\n]*deb/ { print; exit }' "$file")
    if [[ -n $stanza ]]; then break; fi
  done
  if [[ -n $stanza ]]; then
    local uris signed_by
    uris=$(printf '%s\n' "$stanza" | sed -n 's/^URIs:[[:space:]]*//p' | head -n1)
    signed_by=$(printf '%s\n' "$stanza" | sed -n 's/^Signed-By:[[:space:]]*//p' | head -n1)
    [[ -n $uris ]] || die "no URIs in the apt entry for ${codename} in ${file}"
    log "adding deb-src ${uris} ${PGVECTOR_SRC_SUITE} main (${target_sources})"
    {
      echo '# Added by movebot scripts/test-services.sh: source of pgvector, which Debian 12 does not package.'
      echo 'Types: deb-src'
      echo "URIs: ${uris}"
      echo "Suites: ${PGVECTOR_SRC_SUITE}"
      echo 'Components: main'
      if [[ -n $signed_by ]]; then echo "Signed-By: ${signed_by}"; fi
    } | as_root tee "$target_sources" >/dev/null
    return 0
  fi

  local line
  line=$(grep -hE "^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?[^[:space:]]+[[:space:]]+${codename}[[:space:]]" \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1 || true)
  [[ -n $line ]] || die "found no apt entry for ${codename} to derive a deb-src entry from"
  log "adding deb-src for ${PGVECTOR_SRC_SUITE} (${target_list})"
  printf '%s\n' "$line" |
    sed -E "s/^deb([[:space:]])/deb-src\\1/; s/([[:space:]])${codename}([[:space:]]).*/\\1${PGVECTOR_SRC_SUITE}\\2main/" |
    as_root tee "$target_list" >/dev/null
}

build_pgvector() {
  local started work dir
  started=$(now)
  work=$(mktemp -d /tmp/movebot-pgvector-build.XXXXXX)
  # The sandbox user _apt cannot write to a root-owned mktemp dir; downloading as root is fine here.
  chmod 755 "$work"
  (
    cd "$work"
    apt-get -q source -o APT::Sandbox::User=root "pgvector/${PGVECTOR_SRC_SUITE}" >/dev/null
  ) || { rm -rf "$work"; die "apt-get source pgvector failed"; }
  dir=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n1)
  [[ -n $dir ]] || { rm -rf "$work"; die "apt-get source did not unpack pgvector"; }
  log "building $(basename "$dir") against PostgreSQL ${PG_MAJOR}"
  # OPTFLAGS='' drops -march=native, so the library still loads if the machine's CPU changes.
  if ! make -C "$dir" -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG" OPTFLAGS='' >"$work/build.log" 2>&1 ||
    ! as_root make -C "$dir" -s install PG_CONFIG="$PG_CONFIG" OPTFLAGS='' >>"$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log" >&2
    rm -rf "$work"
    die "building pgvector failed"
  fi
  rm -rf "$work"
  [[ -f $VECTOR_CONTROL ]] || die "pgvector installed but ${VECTOR_CONTROL} is missing"
  log "pgvector built and installed in $(elapsed "$started")"
}

install_missing() {
  local packages=() need_pgvector=0
  [[ -x ${PG_BIN}/initdb && -x ${PG_BIN}/pg_ctl ]] || packages+=("postgresql-${PG_MAJOR}")
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null || packages+=(redis-server)
  if [[ ! -f $VECTOR_CONTROL ]]; then
    need_pgvector=1
    [[ -f $PG_SERVER_HEADER ]] || packages+=("postgresql-server-dev-${PG_MAJOR}")
    command -v dpkg-source >/dev/null || packages+=(dpkg-dev)
    command -v make >/dev/null || packages+=(make)
  fi
  if [[ ${#packages[@]} -eq 0 && $need_pgvector -eq 0 ]]; then
    log "PostgreSQL ${PG_MAJOR}, pgvector and Redis are installed"
    return 0
  fi

  local started
  started=$(now)
  if [[ $need_pgvector -eq 1 ]]; then ensure_pgvector_deb_src; fi
  log "apt-get update"
  apt_get update >/dev/null
  if [[ ${#packages[@]} -gt 0 ]]; then
    log "apt-get install ${packages[*]}"
    # Package scripts must not start system-wide servers: we run our own on free ports.
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [[ ! -e $policy ]]; then
      printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null && as_root chmod 755 "$policy"
      created_policy=1
    fi
    local rc=0
    apt_get install --no-install-recommends "${packages[@]}" >/dev/null || rc=$?
    if [[ $created_policy -eq 1 ]]; then as_root rm -f "$policy"; fi
    [[ $rc -eq 0 ]] || exit "$rc"
  fi
  log "apt steps took $(elapsed "$started")"
  if [[ $need_pgvector -eq 1 ]]; then build_pgvector; fi
}

# ---------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------

TMP_ROOT=''
PG_DATA=''
REDIS_DIR=''
PG_STARTED=0
REDIS_PID=''

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $REDIS_PID ]] && kill -0 "$REDIS_PID" 2>/dev/null; then
    kill "$REDIS_PID" 2>/dev/null || true
    wait_for_exit "$REDIS_PID"
  fi
  if [[ $PG_STARTED -eq 1 ]]; then
    as_pg "${PG_BIN}/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [[ ${KEEP_SERVICE_LOGS:-0} == 1 && -n $TMP_ROOT ]]; then
    for f in "$PG_DATA/server.log" "$REDIS_DIR/redis.log"; do
      if [[ -f $f ]]; then log "---- $f"; cat "$f" >&2; fi
    done
  fi
  if [[ -n $TMP_ROOT ]]; then rm -rf "$TMP_ROOT"; fi
  exit "$rc"
}

# Polls until a process has gone, for at most ~10 s.
wait_for_exit() {
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$1" 2>/dev/null || true
}

# PostgreSQL refuses to run as root: use the postgres system user then.
# Runs from a directory it can read, since the caller's (the repo) may be closed to that user.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then (cd "${TMP_ROOT:-/}" && runuser -u postgres -- "$@"); else "$@"; fi
}

free_port() {
  node -e "const s=require('node:net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

start_postgres() {
  local started port attempt
  started=$(now)
  if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
  fi
  PG_DATA="$TMP_ROOT/pg"
  mkdir -p "$PG_DATA"
  printf '%s\n' "$DB_PASSWORD" >"$TMP_ROOT/pwfile"
  if [[ $(id -u) -eq 0 ]]; then chown -R postgres: "$PG_DATA" "$TMP_ROOT/pwfile"; fi
  chmod 700 "$PG_DATA"
  as_pg "${PG_BIN}/initdb" -D "$PG_DATA" -U "$DB_USER" --pwfile="$TMP_ROOT/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --no-sync \
    >"$TMP_ROOT/initdb.log" 2>&1 || { cat "$TMP_ROOT/initdb.log" >&2; die "initdb failed"; }

  # A port picked as free can be taken before Postgres binds it: try a few.
  for attempt in 1 2 3; do
    port=$(free_port)
    if as_pg "${PG_BIN}/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 60 start -o \
      "-c listen_addresses=127.0.0.1 -p ${port} -k ${PG_DATA} -c fsync=off -c synchronous_commit=off \
       -c full_page_writes=off -c max_connections=200 -c log_min_messages=warning" >/dev/null; then
      PG_STARTED=1
      break
    fi
    log "PostgreSQL did not start on port ${port} (attempt ${attempt}/3)"
  done
  [[ $PG_STARTED -eq 1 ]] || { tail -n 30 "$PG_DATA/server.log" >&2; die "PostgreSQL did not start"; }

  as_pg "${PG_BIN}/psql" -h "$PG_DATA" -p "$port" -U "$DB_USER" -d postgres -v ON_ERROR_STOP=1 -qAt \
    -c "CREATE DATABASE ${DB_NAME}" >/dev/null
  # Proves pgvector is really installed before any test runs.
  as_pg "${PG_BIN}/psql" -h "$PG_DATA" -p "$port" -U "$DB_USER" -d "$DB_NAME" -v ON_ERROR_STOP=1 -qAt \
    -c 'CREATE EXTENSION IF NOT EXISTS vector' >/dev/null || die "CREATE EXTENSION vector failed"
  export DATABASE_URL="postgres://${DB_USER}:${DB_PASSWORD}@127.0.0.1:${port}/${DB_NAME}"
  log "PostgreSQL ${PG_MAJOR} + pgvector on 127.0.0.1:${port} (started in $(elapsed "$started"))"
}

start_redis() {
  local started port attempt i
  started=$(now)
  REDIS_DIR="$TMP_ROOT/redis"
  mkdir -p "$REDIS_DIR"
  for attempt in 1 2 3; do
    port=$(free_port)
    # Foreground process in the background (not --daemonize) so we know its pid without a race.
    redis-server --bind 127.0.0.1 --port "$port" --dir "$REDIS_DIR" --save '' --appendonly no \
      --maxmemory-policy noeviction --protected-mode yes --logfile "$REDIS_DIR/redis.log" &
    REDIS_PID=$!
    for ((i = 0; i < 100; i++)); do
      if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
        export REDIS_URL="redis://127.0.0.1:${port}"
        log "Redis $(redis-server --version | sed -E 's/.* v=([^ ]+).*/\1/') on 127.0.0.1:${port} (started in $(elapsed "$started"))"
        return 0
      fi
      kill -0 "$REDIS_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill "$REDIS_PID" 2>/dev/null || true
    REDIS_PID=''
    log "Redis did not start on port ${port} (attempt ${attempt}/3)"
  done
  tail -n 30 "$REDIS_DIR/redis.log" >&2 || true
  die "Redis did not start"
}

# ---------------------------------------------------------------------------------------------

if [[ -n ${DATABASE_URL:-} && -n ${REDIS_URL:-} ]]; then
  log "using DATABASE_URL and REDIS_URL from the environment; starting nothing"
  exec "$@"
fi

# Two runs at once must not both drive apt or build pgvector.
exec 9>/tmp/movebot-test-services.install.lock
flock 9
install_missing
flock -u 9
exec 9>&-

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
TMP_ROOT=$(mktemp -d /tmp/movebot-test-services.XXXXXX)
chmod 755 "$TMP_ROOT"
# A server given in the environment is used as it is; only the missing one is started.
if [[ -n ${DATABASE_URL:-} ]]; then log "using DATABASE_URL from the environment"; else start_postgres; fi
if [[ -n ${REDIS_URL:-} ]]; then log "using REDIS_URL from the environment"; else start_redis; fi

# Not exec: the trap must run after the command to stop the servers.
set +e
"$@"
status=$?
set -e
exit "$status"
