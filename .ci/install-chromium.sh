#!/usr/bin/env bash
# Debian's chromium for the review page's browser test (packages/review/test/page.test.ts, driven by
# puppeteer-core: nothing downloads a browser). Idempotent and quiet: does nothing when it is installed.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium >/dev/null
