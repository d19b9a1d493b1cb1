#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests where we are allowed to (root, apt).
# Failure is fine: those tests then skip, saying why.
command -v chromium >/dev/null && command -v chromedriver >/dev/null && exit 0
[ "$(id -u)" = 0 ] || { echo "chromium not installed (not root): browser tests will skip"; exit 0; }
command -v apt-get >/dev/null || exit 0
echo "installing chromium for the browser tests..."
(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null 2>&1 \
  || echo "could not install chromium: browser tests will skip"
