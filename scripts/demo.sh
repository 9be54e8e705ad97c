#!/usr/bin/env bash
# Install gu1-async with its command line into .venv and run `gu1 demo`: the SDK against
# the built-in fake gu1 server, with no API key and no network.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import venv, ensurepip' 2>/dev/null || {
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq python3-venv >/dev/null; fi
}
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[cli]'
exec .venv/bin/gu1 demo "$@"
