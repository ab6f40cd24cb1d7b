#!/usr/bin/env bash
# Makes PostgreSQL and Redis available for Kontakt on this machine.
#
# When DATABASE_URL and REDIS_URL are both set, nothing is done. Otherwise the
# missing servers are installed with apt-get (if absent) and started under a
# project-local data folder (scripts/.data/ by default, KONTAKT_DATA_DIR to change) on
# free loopback ports. The script is idempotent: servers it already started are
# reused. It prints shell assignments to stdout, so callers do:
#
#     eval "$(scripts/services.sh)"
#
# Progress goes to stderr. `scripts/services.sh stop` stops what it started.
set -euo pipefail
shopt -s inherit_errexit

root=$(cd "$(dirname "$0")/.." && pwd)
data=${KONTAKT_DATA_DIR:-$root/scripts/.data}
log() { printf 'services: %s\n' "$*" >&2; }

free_port() {
  python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    log "need root to apt-get install $*"; exit 1
  fi
  if [ -z "${_apt_updated:-}" ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    _apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

pg_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
}

start_postgres() {
  local bin pgdata port sock
  bin=$(pg_bindir)
  if [ -z "$bin" ]; then apt_install postgresql; bin=$(pg_bindir); fi
  local pgroot=$data
  mkdir -p "$pgroot"
  # The cluster runs as the postgres user, who may not be able to reach a
  # checkout under /root: fall back to a folder of its own then.
  if ! su postgres -s /bin/sh -c "test -x '$pgroot'" 2>/dev/null; then
    pgroot=/var/tmp/kontakt-$(printf '%s' "$root" | md5sum | cut -c1-10)
    log "postgres cannot reach $data; its cluster lives in $pgroot"
  fi
  pgdata=$pgroot/pg; sock=$pgroot/pgsock
  mkdir -p "$pgdata" "$sock"
  if [ -f "$data/pg.port" ] && su postgres -s /bin/sh -c "$bin/pg_ctl -D '$pgdata' status" >/dev/null 2>&1; then
    port=$(cat "$data/pg.port")
  else
    if [ ! -f "$pgdata/PG_VERSION" ]; then
      log "initdb in $pgdata"
      mkdir -p "$pgdata"; chown -R postgres:postgres "$pgdata" "$sock"
      # initdb refuses to run as root; the postgres user owns the cluster.
      su postgres -s /bin/sh -c "$bin/initdb -D '$pgdata' -A trust -U postgres -E UTF8 --locale=C.UTF-8" >&2
    fi
    chown -R postgres:postgres "$pgdata" "$sock"
    port=$(free_port)
    log "starting PostgreSQL on 127.0.0.1:$port"
    su postgres -s /bin/sh -c "$bin/pg_ctl -D '$pgdata' -l '$sock/postgres.log' -w -t 60 \
      -o \"-p $port -k $sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200\" start" >&2
    echo "$port" >"$data/pg.port"
  fi
  "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='kontakt'" | grep -q 1 ||
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres kontakt
  echo "postgres://postgres@127.0.0.1:$port/kontakt?sslmode=disable"
}

start_redis() {
  local port
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p "$data/redis"
  if [ -f "$data/redis.port" ] && redis-cli -p "$(cat "$data/redis.port")" ping >/dev/null 2>&1; then
    port=$(cat "$data/redis.port")
  else
    port=$(free_port)
    log "starting Redis on 127.0.0.1:$port"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$data/redis" --daemonize yes \
      --pidfile "$data/redis.pid" --logfile "$data/redis.log" --save "" --appendonly no >&2
    for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    echo "$port" >"$data/redis.port"
  fi
  echo "redis://127.0.0.1:$port/0"
}

stop_all() {
  local bin
  bin=$(pg_bindir)
  local d
  for d in "$data/pg" /var/tmp/kontakt-$(printf '%s' "$root" | md5sum | cut -c1-10)/pg; do
    [ -n "$bin" ] && [ -f "$d/postmaster.pid" ] && su postgres -s /bin/sh -c "$bin/pg_ctl -D '$d' -m fast stop" >&2 || true
  done
  [ -f "$data/redis.port" ] && redis-cli -p "$(cat "$data/redis.port")" shutdown nosave >/dev/null 2>&1 || true
  rm -f "$data/pg.port" "$data/redis.port"
}

case "${1:-start}" in
  stop) stop_all; exit 0 ;;
  start) ;;
  *) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
esac

db=${DATABASE_URL:-}
rd=${REDIS_URL:-}
[ -n "$db" ] || db=$(start_postgres)
[ -n "$rd" ] || rd=$(start_redis)
printf 'export DATABASE_URL=%q\nexport REDIS_URL=%q\n' "$db" "$rd"
