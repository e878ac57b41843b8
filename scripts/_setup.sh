# Sourced by scripts/start and scripts/test: defines setup_venv, which makes a virtual environment
# in .venv with the project in it. Sourcing passes no arguments on, so a caller's own arguments
# (scripts/start --host 0.0.0.0) never reach this file.
# Usage: . scripts/_setup.sh; setup_venv [EXTRAS]   (EXTRAS like "test")
find_python() {
  for py in python3.13 python3.12 python3.11 python3; do
    if command -v "$py" >/dev/null 2>&1 &&
       "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  echo "Python 3.11 or newer is needed" >&2; return 1
}
setup_venv() {
  local extras=${1:-}
  if [ ! -x .venv/bin/python ]; then
    "$(find_python)" -m venv .venv
  fi
  local spec="."; [ -n "$extras" ] && spec=".[$extras]"
  local stamp=".venv/.installed-$(sha256sum < pyproject.toml | cut -c1-16)-${extras:-base}"
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e "$spec"
    touch "$stamp"
  fi
}
