#!/usr/bin/env bash
# Tesseract (the second OCR engine) with Chinese and English, and CJK fonts for the synthetic documents.
# Installs them with apt-get when root; otherwise says exactly what to install. Never fails the build:
# the server runs without an OCR engine (checks then stay "unknown").
set -u
need=()
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr)
if command -v tesseract >/dev/null 2>&1; then
  langs=$(tesseract --list-langs 2>/dev/null)
  grep -qx chi_sim <<<"$langs" || need+=(tesseract-ocr-chi-sim)
  grep -qx eng <<<"$langs" || need+=(tesseract-ocr-eng)
else
  need+=(tesseract-ocr-chi-sim tesseract-ocr-eng)
fi
if command -v fc-list >/dev/null 2>&1; then
  fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-noto-cjk)
else
  need+=(fontconfig fonts-noto-cjk)
fi
if [ "${WITH_BROWSER:-0}" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || echo "WARNING: apt-get could not install: ${need[*]}"
else
  echo "NOTE: please install these Debian packages (as root): apt-get install ${need[*]}"
  echo "      Without them OCR by Tesseract is unavailable; RapidOCR (installed by pip) still works."
fi
exit 0
