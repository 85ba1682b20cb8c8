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
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


# -- helpers for journeys and load tests (added with tests/browser/test_journey.py) -----------------------
#
# Streamlit draws a widget inside a container with the CSS class ``st-key-<key>`` (characters other
# than letters, digits, '_' and '-' become '-': the key ``treino.max_steps`` is ``st-key-treino-max_steps``).
# "Did my click finish?" is answered from the app's own websocket: an init script records, with
# browser timestamps, every small frame the page receives (ScriptFinished messages are a few bytes)
# and every rerun request it sends; Python decodes them with Streamlit's protobuf classes. This is
# exact where watching the "Running..." widget is a guess (it may not have appeared yet after a click).

WS_RECORDER = """
(() => {
  if (window.__ftdashWs) return;
  const Native = window.WebSocket;
  const log = window.__ftdashWs = {rx: [], tx: []};
  const bytes = d => d instanceof ArrayBuffer ? new Uint8Array(d)
    : (ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : null);
  function Recording(url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    ws.addEventListener('message', ev => {
      const b = bytes(ev.data);
      if (b && b.byteLength < 512) log.rx.push([Date.now(), Array.from(b)]);
    });
    const send = ws.send.bind(ws);
    ws.send = data => {
      const b = bytes(data);
      if (b && b.byteLength < 262144) log.tx.push([Date.now(), Array.from(b)]);
      return send(data);
    };
    return ws;
  }
  Recording.prototype = Native.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Recording[k] = Native[k];
  window.WebSocket = Recording;
})();
"""


WS_TAKE = ("() => window.__ftdashWs ? {rx: window.__ftdashWs.rx.splice(0), tx: window.__ftdashWs.tx.splice(0)}"
           " : {rx: [], tx: []}")


def key_class(key: str) -> str:
    """The CSS selector of the container Streamlit draws for the widget with this ``key=``."""
    return ".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


class ScriptRuns:
    """The script runs one browser page asked for and saw finish, read from its websocket.

    ``runs.install(page)`` before ``page.goto``; then ``n = runs.full_count(page)``, act, and
    ``runs.wait_full(page, n)`` waits for the next whole-script run to finish. ``runs.timings``
    pairs each rerun request (not fragment timers) with the end of that run, in browser time.
    """

    def __init__(self) -> None:
        self.finished: list[tuple[float, int]] = []   # (ms, ScriptFinishedStatus)
        self.requests: list[float] = []               # ms of whole-script rerun requests

    def install(self, page: Any) -> None:
        page.add_init_script(WS_RECORDER)

    def pull(self, page: Any) -> None:
        self.ingest(page.evaluate(WS_TAKE))

    def ingest(self, got: dict[str, list[Any]]) -> None:
        """Decode what WS_TAKE returned (async pages call it with ``await page.evaluate(WS_TAKE)``)."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        for stamp, raw in got["rx"]:
            msg = ForwardMsg()
            with contextlib.suppress(Exception):
                msg.ParseFromString(bytes(raw))
                if msg.WhichOneof("type") == "script_finished":
                    self.finished.append((float(stamp), int(msg.script_finished)))
        for stamp, raw in got["tx"]:
            msg = BackMsg()
            with contextlib.suppress(Exception):
                msg.ParseFromString(bytes(raw))
                if msg.WhichOneof("type") == "rerun_script" and not msg.rerun_script.fragment_id:
                    self.requests.append(float(stamp))

    def full_count(self, page: Any) -> int:
        """Whole-script runs finished so far (fragment reruns and interrupted runs not counted)."""
        self.pull(page)
        return self.count()

    def count(self) -> int:
        return sum(1 for _, status in self.finished if status == 0)

    def wait_full(self, page: Any, since: int, timeout_s: float = 120) -> None:
        deadline = time.time() + timeout_s
        while self.full_count(page) <= since:
            if time.time() > deadline:
                raise TimeoutError(f"no script run finished within {timeout_s:.0f} s")
            page.wait_for_timeout(100)

    def timings(self) -> list[float]:
        """Seconds from each rerun request to the end of the first whole run that followed it
        (requests superseded by a later one before any run finished are not counted)."""
        done = sorted(t for t, status in self.finished if status == 0)
        out: list[float] = []
        requests = sorted(self.requests)
        for i, asked in enumerate(requests):
            nxt = requests[i + 1] if i + 1 < len(requests) else float("inf")
            end = next((t for t in done if t >= asked), None)
            if end is not None and end <= nxt:
                out.append((end - asked) / 1000)
        return out


def settle(page: Any, runs: ScriptRuns | None = None, since: int | None = None, timeout_s: float = 120) -> None:
    """Wait for the run an action started (when ``runs``/``since`` are given), then for the page to
    be idle: no status widget and no element still marked stale."""
    if runs is not None and since is not None:
        runs.wait_full(page, since, timeout_s)
    wait_idle(page, timeout_s)
    deadline = time.time() + timeout_s
    while page.locator("[data-stale='true']").count() and time.time() < deadline:
        page.wait_for_timeout(200)


def full_screenshot(page: Any, path: str | Path, width: int = 1400, max_height: int = 7000) -> Path:
    """The whole page, not just the viewport: Streamlit scrolls inside its main section, so grow the
    viewport to the content's height for the picture, then put it back."""
    page.mouse.move(1, 1)  # no hover toolbars on charts
    size = page.viewport_size or {"width": width, "height": 900}
    height = page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                           " return m ? m.scrollHeight : document.body.scrollHeight; }")
    page.set_viewport_size({"width": width, "height": max(size["height"], min(int(height), max_height))})
    page.wait_for_timeout(700)  # charts redraw at the new size
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return Path(path)


@contextlib.contextmanager
def browser(headless: bool = True) -> Iterator[Any]:
    """One chromium for several contexts (the load test's sessions)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=headless)
        try:
            yield instance
        finally:
            instance.close()


@contextlib.contextmanager
def browser_context(locale: str = "en-US", width: int = 1400, height: int = 900) -> Iterator[Any]:
    """A browser context (tabs sharing it are ``context.new_page()``) whose pages send ``locale``
    as the browser's language: a visit with no ?lang= and no stored choice follows it."""
    with browser() as instance:
        context = instance.new_context(viewport={"width": width, "height": height}, locale=locale)
        try:
            yield context
        finally:
            context.close()


class Driver:
    """A person at one browser page: every action waits for the script run it causes to finish.

        app = Driver(page); app.open(url, ready="dados_tokens")
        app.set_number("dados_train", 48); app.choose("formatos_source", "mine@v1"); app.click("dados_save")
    """

    def __init__(self, page: Any, timeout_s: float = 180) -> None:
        self.page, self.timeout_s, self.runs = page, timeout_s, ScriptRuns()
        self.runs.install(page)

    def widget(self, key: str) -> Any:
        """The element drawn for ``key=`` (not a stale copy Streamlit keeps while a fragment reruns)."""
        return self.page.locator(key_class(key) + ":not([data-stale='true'])")

    def open(self, url: str, ready: str | None = None, timeout_s: float = 300) -> None:
        """Open a URL and wait for its first run (and for the widget ``ready`` when given)."""
        since = self.runs.full_count(self.page)
        self.page.goto(url)
        self.runs.wait_full(self.page, since, timeout_s)
        if ready:
            self.widget(ready).first.wait_for(timeout=timeout_s * 1000)
        settle(self.page, timeout_s=timeout_s)

    def reload(self, ready: str, timeout_s: float = 300) -> None:
        """``page.reload()`` (a new Streamlit session on the same URL), waiting for its first run and
        for the widget ``ready``."""
        since = self.runs.full_count(self.page)
        self.page.reload()
        self.runs.wait_full(self.page, since, timeout_s)
        self.widget(ready).first.wait_for(timeout=timeout_s * 1000)
        settle(self.page, timeout_s=timeout_s)

    def act(self, action: Any, timeout_s: float | None = None) -> None:
        """Do something that reruns the script, and wait until that run has finished."""
        since = self.runs.full_count(self.page)
        action()
        settle(self.page, self.runs, since, timeout_s or self.timeout_s)

    def navigate(self, link: str, ready: str, timeout_s: float | None = None) -> None:
        """Click a page link in the sidebar and wait for the page (its widget ``ready``)."""
        self.act(lambda: self.page.get_by_role("link", name=link, exact=True).click(), timeout_s)
        self.widget(ready).first.wait_for(timeout=(timeout_s or self.timeout_s) * 1000)

    def click(self, key: str, timeout_s: float | None = None) -> None:
        self.act(lambda: self.widget(key).locator("button").first.click(), timeout_s)

    def choose(self, key: str, option: str) -> None:
        """Pick an option of a selectbox by its label."""
        def pick() -> None:
            self.widget(key).locator("[role=combobox]").click()
            self.page.get_by_role("option", name=option, exact=True).click()
        self.act(pick)

    def add_option(self, key: str, option: str) -> None:
        """Add an option to a multiselect (then close its list)."""
        def pick() -> None:
            self.widget(key).locator("[role=combobox]").click()
            self.page.get_by_role("option", name=option, exact=True).click()
            self.page.keyboard.press("Escape")
        self.act(pick)

    def remove_option(self, key: str, option: str) -> None:
        def remove() -> None:
            self.widget(key).get_by_role("button", name=f"Remove {option}", exact=True).click()
            self.page.keyboard.press("Escape")   # the click may also open the list of options
        self.act(remove)

    def expand(self, label: str) -> None:
        """Open the expander with this label (no rerun: expanders open in the browser)."""
        details = self.page.locator("[data-testid='stExpander'] details").filter(
            has=self.page.locator("summary", has_text=label)).last
        if details.get_attribute("open") is None:
            details.locator("summary").first.click()
        self.page.wait_for_function("e => e.open", arg=details.element_handle())

    def radio(self, key: str, label: str) -> None:
        self.act(lambda: self.widget(key).get_by_text(label, exact=True).click())

    def set_number(self, key: str, value: float) -> None:
        def fill() -> None:
            box = self.widget(key).locator("input")
            box.fill(str(value))
            box.press("Enter")
        self.act(fill)

    def set_text(self, key: str, value: str) -> None:
        def fill() -> None:
            box = self.widget(key).locator("input, textarea").first
            box.fill(value)
            box.press("Enter" if box.evaluate("e => e.tagName") == "INPUT" else "Control+Enter")
        self.act(fill)

    def slider_key(self, key: str, press: str, thumb: int = 0) -> None:
        """Move one thumb of a slider with the keyboard (Home, End, ArrowLeft, PageUp...)."""
        def move() -> None:
            handle = self.widget(key).locator("input[type=range]").nth(thumb)
            handle.focus()
            handle.press(press)
        self.act(move)

    def slider_value(self, key: str, thumb: int = 0) -> int:
        return int(float(self.widget(key).locator("input[type=range]").nth(thumb).get_attribute("value")))

    def metric(self, label: str) -> str:
        """The value shown by the st.metric with this label."""
        box = self.page.locator("[data-testid='stMetric']").filter(has=self.page.get_by_text(label, exact=True))
        return box.first.locator("[data-testid='stMetricValue']").inner_text().strip()

    def errors(self) -> list[str]:
        return page_errors(self.page)


def error_boxes(page: Any) -> list[str]:
    """Texts of st.error boxes (the one-sentence errors the pages draw; none on a happy path)."""
    return [e.inner_text() for e in page.locator("[data-testid='stAlertContentError']").all()]
