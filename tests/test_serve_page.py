"""The page `python3 run.py serve` serves, in headless Chromium (Debian's, driven by Playwright):
the kernel of a closed page is shut down after --reclaim-after idle seconds while an open page's
is kept; no link on the page leads nowhere; a typed prime applies without Enter; the terminal
shows the URL really served and no warning."""

import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from test_signals import kernels

import build_report
from browser import chromium_path, stop_server, wait_for_change

SERVE = Path(__file__).resolve().parent.parent / "scripts" / "serve.py"
TEMPERATURE = ".widget-slider:has(label:text-is('temperature'))"
RECLAIM_AFTER = 3


@pytest.fixture
def served(tmp_path, serving_env, free_port):
    """`serve.py --port N --reclaim-after 3` on the small model of serving_env: (URL it printed,
    server process, log path); stopped by its process id afterwards."""
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen([sys.executable, str(SERVE), f"--port={free_port}",
                                   f"--reclaim-after={RECLAIM_AFTER}"],
                                  env=serving_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (url := re.search(r"Serving the temperature slider at (\S+) ", log_path.read_text())):
            assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        url = url.group(1)
        assert url == f"http://127.0.0.1:{free_port}/"
        while f"Voilà is running at:\n{url}\n" not in log_path.read_text():  # the URL printed is the one served
            assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        yield url, server, log_path
    finally:
        stop_server(server, timeout=20)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=build_report.CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def open_ready(browser, url):
    """A new page at url, once its text has been sampled."""
    page = browser.new_page(viewport={"width": 1100, "height": 1200})
    page.goto(url, timeout=60_000)
    page.locator(f"{TEMPERATURE} .noUi-handle").wait_for(timeout=60_000)
    wait_for_change(lambda: page.locator(".widget-output").last.inner_text(), "")
    return page


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.25)


def test_closed_pages_kernels_are_reclaimed_and_an_open_pages_kernel_is_kept(served, browser):
    url, server, log_path = served
    kept = open_ready(browser, url)
    for _ in range(2):  # two visits: open the page, let it sample, close the tab
        # Closed without its shutdown request, which Voilà's server refuses anyway (voila#1458).
        open_ready(browser, url).close(run_before_unload=False)
    after_visits = len(kernels(server.pid))
    print(f"kernels right after two visits and one open page: {after_visits}")
    wait_until(lambda: len(kernels(server.pid)) <= 1, 4 * RECLAIM_AFTER + 10, "the closed pages' kernels reclaimed")
    time.sleep(RECLAIM_AFTER + 2)  # the open page idles past the timeout too
    assert len(kernels(server.pid)) == 1
    print(f"kernels {RECLAIM_AFTER} s and more after: {len(kernels(server.pid))}")

    # The open page's kernel is still there, and answers.
    output = kept.locator(".widget-output").last
    before = output.inner_text()
    kept.locator(f"{TEMPERATURE} .noUi-handle").press("ArrowRight")
    wait_for_change(output.inner_text, before)

    # The terminal said nothing the user could act on: Voilà's information lines, and no warning.
    log = log_path.read_text()
    assert "WARNING" not in log and "not trusted" not in log and "without encryption" not in log, log
    assert all(line.startswith("[Voila] ") or line in (url, f"Serving the temperature slider at {url} (Ctrl-C "
                                                            "stops it)") for line in log.splitlines()), log
    print(f"kernels started: {log.count('Kernel started')}; shut down: {log.count('Kernel shutdown')}")


def test_no_link_on_the_page_leads_nowhere_and_a_typed_prime_applies_without_enter(served, browser):
    url, _, _ = served
    page = open_ready(browser, url)
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    assert hrefs, "the page has links (its headings' anchors)"
    for href in hrefs:
        assert href.startswith(url), f"a link off the served page, which nothing here answers: {href}"
        assert urllib.request.urlopen(href, timeout=60).status == 200, href
    assert not any(re.search(r"\.(ipynb|md)\b", href) for href in hrefs)

    output = page.locator(".widget-output").last
    before = output.inner_text()
    prime = page.locator(".widget-text:has(label:text-is('prime text')) input")
    prime.fill("")
    prime.press_sequentially("The ", delay=40)  # typed, and no Enter
    wait_for_change(output.inner_text, before)
    assert output.locator("span[title='the prime']").inner_text() == "The "


def test_the_page_fetches_nothing_from_outside_and_logs_no_error(served, browser):
    """Offline, as the static report is: every request the page makes stays on the server that served it
    (requests elsewhere are refused here, as no network would answer them), and the console stays clean."""
    url, _, _ = served
    outside, errors = [], []
    page = browser.new_page(viewport={"width": 1100, "height": 1200})
    here = ("http://127.0.0.1:" + url.split(":")[2], "ws://127.0.0.1:" + url.split(":")[2], "data:", "blob:")
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(here)
               else (outside.append(route.request.url), route.abort()))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url, timeout=60_000)
    page.locator(f"{TEMPERATURE} .noUi-handle").wait_for(timeout=60_000)
    text = wait_for_change(lambda: page.locator(".widget-output").last.inner_text(), "")
    assert text.strip()
    page.wait_for_load_state("networkidle")
    assert outside == [] and errors == []
    # FontAwesome's icons, which the left-out style sheets would also have declared, are there: served with the page
    assert page.evaluate("[...document.fonts].some(font => font.family.includes('Font Awesome 5 Free'))")
