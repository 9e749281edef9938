#!/usr/bin/env bash
# The servers and tools the tests start for real. As root on Debian/Ubuntu they are installed
# with apt-get; otherwise this names what is missing and fails.
set -euo pipefail

packages=()
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || command -v pg_ctl >/dev/null \
  || packages+=(postgresql)
command -v redis-server >/dev/null || packages+=(redis-server)
command -v promtool >/dev/null || packages+=(prometheus)

if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "installing ${packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
else
  echo "The tests start real servers and tools; install: sudo apt-get install -y ${packages[*]}" >&2
  exit 1
fi
