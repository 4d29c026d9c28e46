#!/usr/bin/env bash
# Debian packages the tests need, installed when missing (part of `make setup`, so a fresh
# machine needs nothing by hand): a CJK font for the synthetic 身份证 images of the Telegram
# tests, Chromium for the operator console's browser tests, nginx for the multi-instance tests,
# Redis and PostgreSQL binaries for the fault tests' private servers (the shared services the
# other tests use run already; installing the packages does not touch them).
set -euo pipefail
wanted=(fonts-wqy-microhei chromium nginx-light redis-server postgresql)
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "需要这些系统软件包：${missing[*]}（请用系统的包管理器安装）" >&2; exit 1
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "安装系统软件包：${missing[*]}"
$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
