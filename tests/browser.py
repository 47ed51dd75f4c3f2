"""Headless Chromium for the browser tests: Debian's chromium package (the one that prints the
report's PDF), driven by Playwright's Python package; never Playwright's own browser download."""

import contextlib
import os
import signal
import subprocess
import time

import pytest

import build_report


def chromium_path() -> str:
    """The browser, or a skip (on a user's machine) or failure (in CI) that says how to get it."""
    found = build_report.chromium_executable()
    if found:
        return found
    how = f"install Debian's chromium package ({build_report.INSTALL_CHROMIUM})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"Chromium is missing, and CI must run the browser tests: {how}")
    pytest.skip(f"Chromium is not installed, so the browser test cannot run: {how}")


@contextlib.contextmanager
def open_page(tmp_path, viewport=None):
    """A page in a fresh headless Chromium, closed afterwards; if the body fails, a screenshot of
    the whole page goes to tmp_path first."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=build_report.CHROMIUM_FLAGS)
        page = browser.new_page(viewport=viewport or {"width": 1100, "height": 1200})
        try:
            yield page
        except Exception:
            shot = tmp_path / "browser-test-failure.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the page at the failure: {shot}")
            raise
        finally:
            browser.close()


def wait_for_change(read, old, timeout_ms=20_000):
    """Poll read() until it differs from old; return the new value."""
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        value = read()
        if value != old:
            return value
        time.sleep(0.05)
    raise AssertionError(f"still {old!r} after {timeout_ms / 1000:.0f} s")



@contextlib.contextmanager
def open_offline(tmp_path, path):
    """open_page on a local file with the network cut: yields (page, outside, errors), the
    addresses it tried to reach beyond the file and the script errors it raised."""
    outside, errors = [], []
    with open_page(tmp_path) as page:
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                   else (outside.append(route.request.url), route.abort()))
        page.goto(path.as_uri())
        yield page, outside, errors

def stop_server(server: subprocess.Popen, timeout: float) -> None:
    """SIGTERM, as `kill` sends it (the server shuts its kernels down), then SIGKILL after timeout seconds."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
