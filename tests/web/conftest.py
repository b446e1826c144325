"""Fixtures of the browser tests: Chromium as a phone (buyers' pages) and as a 1366x900 desktop (staff admin)."""

from __future__ import annotations

import pytest

from tests.web.chromium import DESKTOP, PHONE, desktop_viewport, phone_viewport, start_chromium, stop_chromium


@pytest.fixture
def browser():
    """Chromium at phone size (360x800), for the buyers' pages."""
    driver = start_chromium(PHONE)
    phone_viewport(driver)
    try:
        yield driver
    finally:
        stop_chromium(driver)


@pytest.fixture
def desktop(tmp_path):
    """Chromium at 1366x900, for the staff admin; downloads land in `desktop.download_dir`."""
    download_dir = tmp_path / "downloads"
    download_dir.mkdir()
    driver = start_chromium(DESKTOP, download_dir=download_dir)
    driver.download_dir = download_dir
    desktop_viewport(driver)
    try:
        yield driver
    finally:
        stop_chromium(driver)
