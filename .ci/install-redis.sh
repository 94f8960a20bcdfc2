#!/usr/bin/env bash
# redis-server (Debian) for the farm tests (packages/farm): they start their own on a free 127.0.0.1 port.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
# the package may start a system instance; the tests do not use it
$SUDO service redis-server stop >/dev/null 2>&1 || true
command -v redis-server >/dev/null
