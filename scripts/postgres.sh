#!/usr/bin/env bash
# A PostgreSQL server of our own, on loopback, with its data in a directory we choose
# (never the system's service). Used by scripts/cluster.sh and by the test fixture that
# runs the store tests on PostgreSQL (tests/pg.py).
#
#   scripts/postgres.sh start DIR PORT   initialise DIR if new (role "madoguchi", databases
#                                        "madoguchi" and "rasa_tracker"), start, print the URL
#   scripts/postgres.sh stop DIR         stop the server of DIR (fast shutdown)
#   scripts/postgres.sh status DIR       exit 0 when it runs
#   scripts/postgres.sh url DIR [DB]     print the URL of database DB (default madoguchi)
#
# Installs Debian's postgresql with apt-get when it is missing (as root). PostgreSQL
# refuses to run as root: as root, the server runs as the "postgres" user.
set -euo pipefail

die() { echo "postgres.sh: $*" >&2; exit 1; }

pg_bin() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  [ -n "$d" ] && [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

ensure_installed() {
  pg_bin >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "postgres.sh: installing Debian's postgresql (apt-get)…" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; } \
      || die "apt-get could not install postgresql"
    pg_bin >/dev/null || die "postgresql installed, but initdb was not found under /usr/lib/postgresql"
  else
    die "PostgreSQL is not installed: run as root (it installs Debian's postgresql), or: sudo apt-get install postgresql"
  fi
}

as_owner() {  # run a command as the server's user (postgres when we are root)
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd="${1:-}"; dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: postgres.sh start DIR PORT | stop DIR | status DIR | url DIR [DB]"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
data="$dir/data"

url_of() {
  local port db="${1:-madoguchi}"
  port="$(cat "$dir/port")"
  echo "postgresql://madoguchi:$(cat "$dir/password")@127.0.0.1:$port/$db"
}

case "$cmd" in
  start)
    port="${3:-}"; [ -n "$port" ] || die "start needs a port: postgres.sh start DIR PORT"
    ensure_installed
    bin="$(pg_bin)"
    if [ "$(id -u)" = 0 ]; then
      # The server's user must reach DIR: every parent directory needs o+x.
      p="$dir"; while [ "$p" != / ]; do
        [ "$(stat -c %A "$p" | cut -c10)" = x ] || [ "$(stat -c %A "$p" | cut -c10)" = t ] \
          || die "$p is not searchable by others; the postgres user cannot reach $dir (chmod o+x $p)"
        p="$(dirname "$p")"
      done
      chown postgres: "$dir"
    fi
    if [ ! -s "$data/PG_VERSION" ]; then
      umask 077
      head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$dir/password"
      as_owner "$bin/initdb" -D "$data" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || die "initdb failed: see $dir/initdb.log"
      cat >>"$data/postgresql.conf" <<CONF
# scripts/postgres.sh: loopback only, socket in our own directory
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 200
fsync = on
CONF
      fresh=1
    fi
    echo "$port" > "$dir/port"
    if ! as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 -o "-p $port" start >/dev/null \
        || die "PostgreSQL did not start: see $data/server.log"
    fi
    if [ "${fresh:-0}" = 1 ]; then
      psql=("$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q)
      as_owner "${psql[@]}" -c "CREATE ROLE madoguchi LOGIN PASSWORD '$(cat "$dir/password")'" \
        -c "CREATE DATABASE madoguchi OWNER madoguchi" -c "CREATE DATABASE rasa_tracker OWNER madoguchi" \
        || die "could not create the role and databases"
    fi
    chmod 600 "$dir/password"
    url_of
    ;;
  stop)
    bin="$(pg_bin)" || exit 0
    [ -s "$data/PG_VERSION" ] || exit 0
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    ;;
  status)
    bin="$(pg_bin)" || exit 1
    as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
    ;;
  url)
    url_of "${3:-madoguchi}"
    ;;
  *)
    die "unknown command $cmd (start, stop, status, url)"
    ;;
esac
