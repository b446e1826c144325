#!/usr/bin/env bash
# Debian packages the project uses beside Python: Tesseract (the second OCR engine) with Chinese and English, the
# CJK fonts the synthetic documents of the OCR tests and benchmark are drawn with, and (WITH_BROWSER=1) Chromium
# for the browser test. Installs what is missing with apt-get when root; otherwise says exactly what to install.
# Never fails the build: the server runs without an OCR engine (checks then stay "unknown").
set -u
packages=(tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng
          fonts-noto-cjk fonts-wqy-zenhei fonts-wqy-microhei fonts-arphic-uming fonts-arphic-ukai
          postgresql redis-server)  # the fault tests start their own PostgreSQL cluster and Redis
[ "${WITH_BROWSER:-0}" = 1 ] && packages+=(chromium chromium-driver chromium-l10n)  # l10n: the browser's own words in Chinese
if ! command -v dpkg-query >/dev/null 2>&1; then
  command -v tesseract >/dev/null 2>&1 || echo "NOTE: install Tesseract 5 with the chi_sim and eng languages for the second OCR engine"
  exit 0
fi
need=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || echo "WARNING: apt-get could not install: ${need[*]}"
else
  echo "NOTE: please install these Debian packages (as root): apt-get install ${need[*]}"
  echo "      Without Tesseract, RapidOCR (installed by pip) still reads the documents."
fi
exit 0
