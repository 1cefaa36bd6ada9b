"""End to end in a real browser: `streamlit run app/dashboard.py` on a free port, headless Chromium (Playwright).

- ``test_every_page_in_a_real_browser``: an image uploaded through the sidebar, every page opened from the
  navigation and drawn to its last figure, no error; then a checkpoint that is not CIFAR-10 uploaded, and every
  page again with an image: no error and no word of CIFAR-10 about it.
- ``test_five_sessions_at_once``: one session alone through every page with an upload, then five at once (each
  its own browser context: its own Streamlit session), then five more: no error, no session sees another's
  image, the server's memory stays bounded; the slowdown is measured and printed.

Chromium comes from Debian (`apt-get install chromium`; `make test` installs it when missing), never from
`playwright install`. Set SENET_DASHBOARD_SCREENSHOTS=docs/dashboard to write the pages' screenshots there (the
README's pictures), and SENET_LOAD_REPORT=path.json to keep the load test's measurements.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from senet_lib.paths import REPO_ROOT, samples_dir
from tests.app.checkpoints import DATASET as OTHER_DATASET
from tests.app.checkpoints import non_cifar_checkpoint

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
START_TIMEOUT_S = 90
STEP_TIMEOUT_MS = 240_000  # one page under load on a busy 2-core machine
#: (navigation label, page title, screenshot name), in the navigation's order
PAGES = [
    ("Overview", "SENet Lab: inside a Squeeze-and-Excitation network", "overview"),
    ("Excitations", "Excitations, layer by layer", "excitations"),
    ("Two images", "Two images, side by side", "two-images"),
    ("Across classes", "Excitations across classes", "across-classes"),
    ("Where it is wrong", "Where the model is wrong", "where-it-is-wrong"),
    ("Attribution", "Attribution", "attribution"),
    ("Intervene", "Intervene on the gates", "intervene"),
    ("Compare models", "Compare models", "compare"),
]
SESSION_IMAGES = ["horse_1.jpg", "ship_2.jpg", "frog_3.jpg", "truck_1.jpg", "airplane_2.jpg"]

pytestmark = [pytest.mark.slow]


def need_chromium() -> None:
    if not CHROMIUM.is_file():
        message = "Chromium missing: `make test` installs it (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):  # CI must run the browser tests, never skip them quietly
            pytest.fail(message)
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(log_path: Path):
    """`streamlit run app/dashboard.py` on a free localhost port; yields (URL, process); always stopped."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app/dashboard.py", "--server.port", str(port)]
    command += [
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
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
            yield url, server
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def settle(page) -> None:
    """Wait until the script run is over and every plotly chart on the page is drawn (none left loading)."""
    deadline = time.monotonic() + STEP_TIMEOUT_MS / 1000
    while True:
        await page.wait_for_function(
            "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=STEP_TIMEOUT_MS
        )
        await page.wait_for_timeout(300)
        charts = page.locator("[data-testid='stPlotlyChart']")
        drawn = page.locator("[data-testid='stPlotlyChart'] .main-svg")
        loading = await page.locator("[data-testid='stSkeleton']").count()
        if not loading and await drawn.count() >= await charts.count():
            return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{await charts.count()} charts, {await drawn.count()} drawn, {loading} loading"
            )


async def problems(page) -> list[str]:
    """Exceptions and error boxes on the page, as text."""
    found = []
    for selector in ("[data-testid='stException']", "[data-testid='stAlertContentError']"):
        found += await page.locator(selector).all_inner_texts()
    return found


async def open_page(page, label: str, title: str) -> float:
    """Click ``label`` in the navigation; seconds until the page's title is up and its last figure drawn."""
    start = time.perf_counter()
    await page.locator("[data-testid='stSidebarNav'] a", has_text=label).first.click()
    await (
        page.locator("h1")
        .filter(has_text=re.compile(f"^{re.escape(title)}$"))
        .first.wait_for(timeout=STEP_TIMEOUT_MS)
    )
    await settle(page)
    return time.perf_counter() - start


async def upload_image(page, name: str, data: bytes) -> None:
    files = [{"name": name, "mimeType": "image/jpeg", "buffer": data}]
    await page.locator("[class*='st-key-images-'] input[type='file']").set_input_files(files)
    await page.get_by_text(f"{name} as the model sees it").first.wait_for(timeout=STEP_TIMEOUT_MS)
    await settle(page)


async def start(page, url: str) -> None:
    await page.goto(url)
    await page.locator("h1", has_text=PAGES[0][1]).first.wait_for(timeout=STEP_TIMEOUT_MS)
    await settle(page)


async def main_text(page) -> str:
    return await page.locator("[data-testid='stMain']").inner_text()


async def session_tour(browser, url: str, name: str, data: bytes) -> dict:
    """One user: a new session, an upload, every page. Returns seconds per page, problems, and the names of
    images seen on its pages (to catch one session's state leaking into another)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    try:
        start_s = time.perf_counter()
        await start(page, url)
        await upload_image(page, name, data)
        upload_s = time.perf_counter() - start_s
        seconds, found, seen = {}, [], set()
        for label, title, _ in PAGES[1:] + PAGES[:1]:
            seconds[label] = await open_page(page, label, title)
            found += await problems(page)
            seen |= set(re.findall(r"session\d-[a-z]+_\d\.jpg", await main_text(page)))
        return {
            "name": name,
            "start_and_upload_s": upload_s,
            "seconds": seconds,
            "problems": found,
            "seen": seen,
        }
    finally:
        await context.close()


def test_every_page_in_a_real_browser(tmp_path):
    need_chromium()
    from playwright.async_api import async_playwright

    shots = os.environ.get("SENET_DASHBOARD_SCREENSHOTS")
    folder = Path(shots) if shots else tmp_path / "shots"
    folder.mkdir(parents=True, exist_ok=True)
    weights, sidecar = non_cifar_checkpoint(tmp_path)
    horse = (samples_dir() / "horse_1.jpg").read_bytes()

    async def run(url: str) -> None:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 1400, "height": 1700})
            await start(page, url)
            await upload_image(page, "horse_1.jpg", horse)
            for label, title, shot in PAGES[1:] + PAGES[:1]:
                await open_page(page, label, title)
                assert await problems(page) == [], label
                if label in ("Excitations", "Attribution", "Intervene", "Compare models"):
                    assert "horse_1.jpg as the model sees it" in await main_text(page), label
                await page.wait_for_timeout(300)  # plotly's transitions, before the picture
                await page.screenshot(path=str(folder / f"{shot}.jpg"), type="jpeg", quality=80)

            await page.get_by_text("Use your own checkpoint").click()
            files = [
                {"name": "shapes.safetensors", "mimeType": "application/octet-stream", "buffer": weights},
                {"name": "shapes.json", "mimeType": "application/json", "buffer": sidecar},
            ]
            await page.locator("[class*='st-key-checkpoint-'] input[type='file']").set_input_files(files)
            await page.get_by_text("Loaded se_resnet20 (uploaded shapes.safetensors)").wait_for(
                timeout=STEP_TIMEOUT_MS
            )
            await settle(page)
            await upload_image(page, "dune.jpg", horse)
            for label, title, _ in PAGES[1:] + PAGES[:1]:
                await open_page(page, label, title)
                assert await problems(page) == [], label
                text = await main_text(page)
                if label != "Compare models":  # which shows a shipped CIFAR model beside it, in its own words
                    assert "CIFAR" not in text.upper(), label
            assert f"held out of {OTHER_DATASET}" in await main_text(page)
            await page.screenshot(path=str(folder / "other-checkpoint-overview.jpg"), type="jpeg", quality=80)
            await browser.close()

    with streamlit_server(tmp_path / "streamlit.log") as (url, _):
        asyncio.run(run(url))
    assert len(list(folder.glob("*.jpg"))) == len(PAGES) + 1


def test_five_sessions_at_once(tmp_path):
    need_chromium()
    from playwright.async_api import async_playwright

    images = {f"session{i}-{n}": (samples_dir() / n).read_bytes() for i, n in enumerate(SESSION_IMAGES)}

    async def run(url: str, pid: int) -> dict:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            name, data = next(iter(images.items()))
            await session_tour(browser, url, name, data)  # warm-up: models loaded, code compiled
            memory = {"warm": rss_mb(pid)}
            alone = await session_tour(browser, url, name, data)
            waves = []
            for wave in ("first five", "second five"):
                started = time.perf_counter()
                results = await asyncio.gather(*(session_tour(browser, url, n, d) for n, d in images.items()))
                waves.append({"wave": wave, "wall_s": time.perf_counter() - started, "sessions": results})
                memory[wave] = rss_mb(pid)
            await browser.close()
        return {"alone": alone, "waves": waves, "memory_mib": memory}

    with streamlit_server(tmp_path / "streamlit.log") as (url, server):
        report = asyncio.run(run(url, server.pid))

    alone = statistics.median(report["alone"]["seconds"].values())
    together = [s for w in report["waves"] for r in w["sessions"] for s in r["seconds"].values()]
    report["median_page_s"] = {"alone": alone, "five at once": statistics.median(together)}
    report["slowdown"] = statistics.median(together) / alone
    summary = {k: v for k, v in report.items() if k not in ("alone", "waves")}
    summary["wall_s"] = {w["wave"]: round(w["wall_s"], 1) for w in report["waves"]}
    print("\nfive sessions:", json.dumps(summary, indent=1))
    if target := os.environ.get("SENET_LOAD_REPORT"):
        Path(target).write_text(json.dumps(report, indent=1, default=sorted) + "\n")

    for wave in report["waves"]:
        for result in wave["sessions"]:
            assert result["problems"] == [], (result["name"], result["problems"])
            assert result["seen"] == {result["name"]}, f"{result['name']} saw {result['seen']}"  # no leak
    memory = report["memory_mib"]
    grown_first = memory["first five"] - memory["warm"]
    grown_second = memory["second five"] - memory["first five"]
    assert memory["second five"] < 3000, memory  # bounded: far below the machine's memory
    assert grown_second < max(150.0, 0.5 * grown_first), (
        memory
    )  # five more sessions add little: caches bounded
