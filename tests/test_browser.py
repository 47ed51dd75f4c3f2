"""The temperature slider as a web page: Voilà serves notebooks/3_synthesis.ipynb, headless
Chromium (Debian's, driven by Playwright) moves the slider by keyboard and by mouse, and the
readout and the text must follow."""

import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from browser import open_page, stop_server, wait_for_change

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "3_synthesis.ipynb"
TEMPERATURE = ".widget-slider:has(label:text-is('temperature'))"


@pytest.fixture
def voila(tmp_path, serving_env, free_port):
    """Voilà on a free loopback port, serving the synthesis notebook with the small model of
    serving_env; stopped by its process id afterwards."""
    port = free_port
    log = open(tmp_path / "voila.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "voila", str(NOTEBOOK), "--no-browser",
                               f"--port={port}", "--Voila.ip=127.0.0.1"],
                              cwd=ROOT, env=serving_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/voila/static/", server, tmp_path / "voila.log")
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop_server(server, timeout=15)
        log.close()


def wait_until_answering(url, server, log_path, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"Voilà exited with {server.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the server is up
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"Voilà did not answer at {url} within {timeout} s")


def test_the_slider_resamples_the_text_by_keyboard_and_by_mouse(voila, tmp_path):
    with open_page(tmp_path) as page:
        page.goto(voila, timeout=60_000)
        handle = page.locator(f"{TEMPERATURE} .noUi-handle")
        handle.wait_for(timeout=60_000)
        readout = page.locator(f"{TEMPERATURE} .widget-readout")
        output = page.locator(".widget-output").last
        text = lambda: output.inner_text()  # noqa: E731
        assert readout.inner_text() == "1.00"
        first = wait_for_change(text, "")

        handle.focus()
        for _ in range(4):
            handle.press("ArrowRight")  # one step is 0.05
        assert wait_for_change(readout.inner_text, "1.00") == "1.20"
        by_keyboard = wait_for_change(text, first)

        track = page.locator(f"{TEMPERATURE} .noUi-target").bounding_box()
        box = handle.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(track["x"] + 0.1 * track["width"], box["y"] + box["height"] / 2, steps=8)
        page.mouse.up()
        by_mouse = float(wait_for_change(readout.inner_text, "1.20"))
        assert 0.1 <= by_mouse < 0.6
        wait_for_change(text, by_keyboard)
        # The live page shows the widget, not the static copy meant for exported HTML.
        assert page.locator(".static-temperature-slider").count() == 0
