"""End to end in a real browser: `streamlit run app/Home.py` on a free port, headless Chromium (Playwright),
a sample uploaded through the file uploader, the excitation heatmap drawn, the prediction shown.

Chromium comes from Debian (`apt-get install chromium`; `make test` installs it when missing), never from
`playwright install`. Set SENET_DASHBOARD_SCREENSHOT=docs/dashboard.png to also write the README's screenshot.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from senet_lib.paths import REPO_ROOT, checkpoints_dir, samples_dir

ROOT = REPO_ROOT
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SAMPLE = samples_dir() / "horse_1.jpg"  # not among the sidebar's default samples
START_TIMEOUT_S = 90

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(log_path: Path):
    """`streamlit run app/Home.py` on a free localhost port; yields its URL; always stopped at exit."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app/Home.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                if server.poll() is not None:
                    raise RuntimeError(
                        f"streamlit exited with code {server.returncode}:\n{log_path.read_text()}"
                    )
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                        if reply.read().strip() == b"ok":
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"streamlit did not answer on {url} within {START_TIMEOUT_S} s")
                time.sleep(0.5)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def expected_prediction(path: Path) -> str:
    """What senet_lib predicts for the file, computed here without the app."""
    from senet_lib.analysis.images import load_image, to_model_input
    from senet_lib.analysis.inspection import LoadedModel, inspect

    loaded = LoadedModel.from_checkpoint(checkpoints_dir() / "se_resnet20")
    return inspect(
        loaded, to_model_input(load_image(path.read_bytes(), path.name), loaded.input_format)
    ).predicted_class


def upload_and_open_excitations(page, url: str, image: Path) -> str:
    """Upload ``image`` in the sidebar, open the Excitations page, wait for its heatmap; the predicted class shown."""
    page.goto(url)
    page.get_by_text("SENet Lab: inside a Squeeze-and-Excitation network").wait_for(timeout=60_000)
    page.locator("section[data-testid='stSidebar'] input[type='file']").set_input_files(str(image))
    page.get_by_text(f"{image.name} as the model sees it").first.wait_for(timeout=60_000)
    page.locator("[data-testid='stSidebarNav'] a", has_text="Excitations").click()
    page.get_by_text("Excitations, layer by layer").wait_for(timeout=60_000)
    heatmap = page.locator("[data-testid='stPlotlyChart']").first
    heatmap.wait_for(timeout=60_000)
    heatmap.locator(".main-svg").first.wait_for(timeout=60_000)  # plotly has drawn it
    page.get_by_text(f"Excitations of {image.name}, per SE layer").wait_for(timeout=30_000)
    line = page.get_by_text(re.compile(r"^Predicted: ")).first.inner_text()
    return re.match(r"Predicted: (\S+) \(", line)[1]


def test_dashboard_in_a_real_browser(tmp_path):
    if not CHROMIUM.is_file():
        message = "Chromium missing: `make test` installs it (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):  # CI must run the browser test, never skip it quietly
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    expected = expected_prediction(SAMPLE)
    with streamlit_server(tmp_path / "streamlit.log") as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            shown = upload_and_open_excitations(page, url, SAMPLE)
            page.wait_for_timeout(500)  # let plotly finish its transitions before the picture
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            if target := os.environ.get("SENET_DASHBOARD_SCREENSHOT"):  # the README's picture
                page.set_viewport_size({"width": 1400, "height": 1450})
                page.wait_for_timeout(1500)  # plotly redraws at the new size
                page.screenshot(path=target)
            errors = page.locator("[data-testid='stException']").count()
        finally:
            browser.close()
    assert shown == expected
    assert errors == 0
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000
