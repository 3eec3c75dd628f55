#!/usr/bin/env bash
# Runs before `npm test`: the suite starts its own redis-server and nginx and drives Debian's Chromium, so a fresh
# machine needs those three binaries. Installs the missing ones with apt-get when it can (root), else says which.
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing test dependencies: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "the test suite needs: ${missing[*]} (Debian: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
