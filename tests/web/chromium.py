"""Headless Chromium for the browser tests (marked `browser`): start, viewport, screenshots. The fixtures are in
conftest.py. Everything skips cleanly when selenium, Chromium or chromedriver is absent."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Screenshots of every run (CI's included): generated, never tracked (.gitignore). Staff pages at 1366x900,
# buyers' pages at 360 px wide.
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_MISSING = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="headless Chromium is not installed (/usr/bin/chromium)"
)
DESKTOP = (1366, 900)
PHONE = (360, 800)


def start_chromium(window: tuple[int, int], *, download_dir: Path | None = None):
    """A headless Chromium driver (its profile is removed by `stop_chromium`)."""
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium is not installed (pip install selenium)"
    )
    service_module = pytest.importorskip("selenium.webdriver.chrome.service")
    if not Path(CHROMEDRIVER).exists():
        pytest.skip("chromedriver is not installed (/usr/bin/chromedriver, Debian package chromium-driver)")
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={window[0]},{window[1]}",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--lang=zh-CN",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    prefs = {"intl.accept_languages": "zh-CN,zh"}
    if download_dir is not None:
        prefs |= {"download.default_directory": str(download_dir), "download.prompt_for_download": False}
    options.add_experimental_option("prefs", prefs)
    # The browser's own words (file pickers, form checks) in Chinese, as on the clerks' machines (Debian package
    # chromium-l10n); UTF-8 file names whatever the machine's locale.
    env = {**os.environ, "LANGUAGE": "zh_CN:zh", "LANG": "C.UTF-8"}
    service = service_module.Service(executable_path=CHROMEDRIVER, env=env)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    driver.profile_dir = profile
    if download_dir is not None:
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_dir)}
        )
    ARTIFACTS.mkdir(exist_ok=True)
    return driver


def stop_chromium(driver) -> None:
    driver.quit()
    shutil.rmtree(driver.profile_dir, ignore_errors=True)


def viewport(driver, width: int, height: int, *, mobile: bool) -> None:
    """The exact viewport (headless Chromium keeps windows at least 500px wide and its window is not the viewport)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )


def phone_viewport(driver, height: int = PHONE[1]) -> None:
    viewport(driver, PHONE[0], height, mobile=True)


def desktop_viewport(driver, height: int = DESKTOP[1]) -> None:
    viewport(driver, DESKTOP[0], height, mobile=False)


def shot(driver, name: str, *, desktop: bool = False, full_page: bool = True) -> None:
    """A screenshot in test-artifacts/; full-page grows the viewport to the page's height for the picture."""
    set_viewport = desktop_viewport if desktop else phone_viewport
    base = DESKTOP[1] if desktop else PHONE[1]
    if full_page:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        set_viewport(driver, max(base, min(int(height), 8000)))
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
    if full_page:
        set_viewport(driver)


def click_when_free(driver, element_id: str, timeout: float = 10.0) -> None:
    """Click a button once nothing covers it: a step's transition (scroll, focus move) can briefly lie over it,
    and a click that lands on the covering element is retried instead of failing the walk."""
    exceptions = pytest.importorskip("selenium.common.exceptions")
    deadline = time.monotonic() + timeout
    while True:
        element = driver.find_element("id", element_id)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        try:
            element.click()
            return
        except (exceptions.ElementClickInterceptedException, exceptions.StaleElementReferenceException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
