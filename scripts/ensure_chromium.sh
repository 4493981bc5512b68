#!/usr/bin/env bash
# Make sure Debian's headless Chromium (and its driver) and a Japanese font are installed,
# for the browser tests of the web chat widget (tests/browser/). Idempotent: does nothing
# when everything is already there. Needs root (or sudo) the first time.
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
# Without a CJK font the screenshots show boxes instead of Japanese text.
if ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then need+=(fonts-noto-cjk); fi

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "ensure_chromium: please install as root: apt-get install -y ${need[*]}" >&2
    exit 2
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure_chromium: apt-get not found; install ${need[*]} with your package manager" >&2
  exit 2
fi
echo "ensure_chromium: installing ${need[*]} (Debian packages; once)…"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "ensure_chromium: $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium installed')"
