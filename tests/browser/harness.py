"""Start the real app and a real browser for end-to-end tests and screenshots.

    with running_app(results_dir) as url, browser_page() as page:
        page.goto(url + "/dados"); wait_idle(page); page.screenshot(path="x.png")

The app runs as ``streamlit run app.py`` on a free local port, with its own results folder
(database, runs) so tests never touch the developer's data. The browser is Debian's chromium
driven by Playwright's Python package through ``executable_path`` (no browser download).
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_app(results_dir: Path, extra_env: dict[str, str] | None = None, port: int | None = None) -> Iterator[str]:
    """``streamlit run app.py`` in its own process group; yields the base URL; stops it after."""
    port = port or free_port()
    env = {**os.environ, "FTDASH_RESULTS": str(results_dir), "FTDASH_DB": str(Path(results_dir) / "estudo.duckdb"),
           "FTDASH_MODELS": os.environ.get("FTDASH_MODELS", str(ROOT / "resultados" / "models")),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1",
           **(extra_env or {})}
    log = open(Path(results_dir) / "streamlit.log", "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the app did not start; see {log.name}")
            time.sleep(0.5)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@contextlib.contextmanager
def browser_page(width: int = 1400, height: int = 900) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


def wait_idle(page: object, timeout_s: float = 60) -> None:
    """Wait until Streamlit has finished running the script (no 'Running...' status widget)."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout_s * 1000)
    deadline = time.time() + timeout_s
    time.sleep(0.3)
    while time.time() < deadline:
        if page.locator("[data-testid='stStatusWidget']").count() == 0:
            time.sleep(0.3)
            if page.locator("[data-testid='stStatusWidget']").count() == 0:
                return
        time.sleep(0.2)
    raise TimeoutError("the app kept running for too long")


def page_errors(page: object) -> list[str]:
    """Texts of any exception boxes Streamlit drew (a traceback on screen is a failure)."""
    return [e.inner_text() for e in page.locator("[data-testid='stException']").all()]
