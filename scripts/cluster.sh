#!/usr/bin/env bash
# Several replicas on this machine, for tests and demos (docs/scaling.md):
#
#   scripts/cluster.sh up [--replicas N]   install what is missing, then `bot cluster up`
#   scripts/cluster.sh down                stop everything (data stays in var/cluster/)
#   scripts/cluster.sh status              what runs
#   scripts/cluster.sh install             only install Debian's postgresql, redis-server, haproxy
#
# PostgreSQL, Redis and HAProxy run as our own processes on 127.0.0.1 with their data
# under var/cluster/, never as the system's services.
set -euo pipefail
cd "$(dirname "$0")/.."

install_missing() {
  local missing=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "cluster.sh: missing ${missing[*]}; install them (sudo apt-get install ${missing[*]}) or run as root" >&2
    exit 1
  fi
  echo "cluster.sh: installing ${missing[*]} (apt-get)…" >&2
  export DEBIAN_FRONTEND=noninteractive
  # policy-rc.d 101: the packages must not start system services; we start our own.
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created=1; fi
  apt-get install -y -q "${missing[@]}" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
  [ "$created" = 1 ] && rm -f "$policy"
  return 0
}

cmd="${1:-}"; shift || true
case "$cmd" in
  install) install_missing ;;
  up) install_missing; ./scripts/bootstrap.sh >/dev/null; exec .venv/bin/bot cluster up "$@" ;;
  down|status) exec .venv/bin/bot cluster "$cmd" "$@" ;;
  *) echo "usage: scripts/cluster.sh up|down|status|install [--replicas N]" >&2; exit 2 ;;
esac
