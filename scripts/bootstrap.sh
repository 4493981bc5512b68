#!/usr/bin/env bash
# Create .venv with Python 3.10 and install the pinned dependencies (only when they changed).
# Rasa Open Source 3.6 needs Python 3.10 (it does not install on 3.11 or newer).
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local candidates=()
  [ -n "${MADOGUCHI_PYTHON:-}" ] && candidates+=("$MADOGUCHI_PYTHON")
  if command -v pyenv >/dev/null 2>&1; then
    local root; root="$(pyenv root 2>/dev/null || true)"
    for v in $(ls -d "$root"/versions/3.10* 2>/dev/null | sort -rV); do candidates+=("$v/bin/python"); done
  fi
  for v in $(ls -d "$HOME"/.pyenv/versions/3.10* 2>/dev/null | sort -rV); do candidates+=("$v/bin/python"); done
  command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
  command -v python3 >/dev/null 2>&1 && candidates+=("$(command -v python3)")
  for p in "${candidates[@]}"; do
    if [ -x "$p" ] && "$p" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
      echo "$p"; return 0
    fi
  done
  return 1
}

if [ -x .venv/bin/python ] && ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
  echo "bootstrap: .venv is not Python 3.10; recreating it" >&2
  rm -rf .venv
fi

if [ ! -x .venv/bin/python ]; then
  if ! PY="$(find_python)"; then
    cat >&2 <<'MSG'
bootstrap: Python 3.10 was not found.
  Madoguchi uses Rasa Open Source 3.6, which only runs on Python 3.10 (not 3.11 or newer).
  Install it, then run the command again:
    pyenv install 3.10.13          # with pyenv (https://github.com/pyenv/pyenv)
    sudo apt install python3.10 python3.10-venv   # or from your distribution
  or point to an existing interpreter:  MADOGUCHI_PYTHON=/path/to/python3.10 make run
MSG
    exit 2
  fi
  echo "bootstrap: creating .venv with $PY ($("$PY" --version))"
  "$PY" -m venv .venv
fi

stamp=.venv/.madoguchi-deps
want="$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "bootstrap: installing pinned dependencies (first time: about 3–5 minutes, ~3 GB)…"
  .venv/bin/python -m pip install --disable-pip-version-check -q 'pip>=23,<26' 'setuptools>=70.3,<70.4' wheel
  .venv/bin/python -m pip install --disable-pip-version-check --progress-bar on -r requirements.lock
  .venv/bin/python -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
  echo "$want" > "$stamp"
  echo "bootstrap: dependencies installed"
fi
