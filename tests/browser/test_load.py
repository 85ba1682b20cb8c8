"""Load: 10 browser sessions at once on one app while a training run goes (issue 5).

    .venv/bin/python -m pytest -q tests/browser/test_load.py -s
    FTDASH_LOAD_SESSIONS=10 FTDASH_LOAD_SECONDS=180 .venv/bin/python -m pytest -q tests/browser/test_load.py -s

One chromium, one context (a separate Streamlit session) per simulated person, driven together with
Playwright's async API, on 127.0.0.1 only. Session 0 first launches a long local fine-tune on page 3
(it trains for the whole test and is cancelled from the page at the end). Then, for a bounded time,
half the sessions move the curation sliders of page 1 over and over, and the other half generate on
page 4 (the bundled SmolLM2 beside gpt-4o-mini answered by the fake OpenAI server, a few tokens each,
a new prompt every time). Every action waits for the script run it caused (read from the app's
websocket, timed with the browser's clock). The test fails on any exception or error box, any action
the app did not finish in time, and any lost write: after the app is stopped, every generation a
session saw finish must be in the generations table, and every preset a session saved must be in
curation_presets. Response times (slider change -> script finished) are printed as median / p95 /
max and written, with the rest of the figures, to load.json in the test's folder (and to
$FTDASH_LOAD_REPORT when set).
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

from locales import t
from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, WS_RECORDER, WS_TAKE, ScriptRuns, key_class, running_app
from tests.fake_openai import FAKE_KEY, FakeOpenAI

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1500)]

SESSIONS = int(os.environ.get("FTDASH_LOAD_SESSIONS", "10"))
SECONDS = float(os.environ.get("FTDASH_LOAD_SECONDS", "180"))
ACTION_LIMIT_S = 300.0       # one action the app has not finished in 5 minutes is a failure
# Every session does at least this much, however long its setup took (ten chromium tabs on two cores
# can take most of the planned time to open; the time bound alone then measured nothing).
MIN_SLIDER_MOVES, MIN_GENERATIONS = 4, 2
MAX_NEW_TOKENS = 8
OPENAI_MODEL = "gpt-4o-mini-2024-07-18"
LANG = "pt"                  # every session opens with ?lang=pt (the texts below are Portuguese)
# Slider moves on page 1 (key, thumb, key press); each pair goes and comes back.
MOVES = [("dados_tokens", 1, "PageUp"), ("dados_tokens", 1, "PageDown"),
         ("dados_title_chars", 0, "ArrowRight"), ("dados_title_chars", 0, "ArrowLeft"),
         ("dados_content_chars", 0, "PageUp"), ("dados_content_chars", 0, "PageDown")]


def T(key: str, **values: object) -> str:
    return t(key, LANG, **values)


def figures(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"n": len(values), "median_s": round(statistics.median(ordered), 3), "p95_s": round(p95, 3),
            "max_s": round(ordered[-1], 3)}


@dataclass
class Session:
    """One person: a browser context with its own Streamlit session, and what it saw."""

    index: int
    page: Any
    runs: ScriptRuns = field(default_factory=ScriptRuns)
    slider_s: list[float] = field(default_factory=list)
    generate_s: list[float] = field(default_factory=list)
    prompts_done: list[str] = field(default_factory=list)
    presets_saved: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def widget(self, key: str) -> Any:
        return self.page.locator(key_class(key) + ":not([data-stale='true'])")

    async def pull(self) -> None:
        self.runs.ingest(await self.page.evaluate(WS_TAKE))

    async def act(self, what: str, action: Any) -> float | None:
        """Do something that reruns the script; wait for that run to end. Returns the seconds from
        the (first) rerun request to the end of the run that answered the last one (browser clock)."""
        await self.pull()
        since, asked = self.runs.count(), len(self.runs.requests)
        try:
            await action()
            deadline = time.time() + ACTION_LIMIT_S
            while True:
                await self.pull()
                if self.runs.count() > since and len(self.runs.requests) > asked:
                    last = self.runs.requests[-1]
                    ends = [t for t, status in self.runs.finished if status == 0 and t >= last]
                    if ends:
                        break
                if time.time() > deadline:
                    self.errors.append(f"session {self.index}: {what}: no answer in {ACTION_LIMIT_S:.0f} s")
                    return None
                await asyncio.sleep(0.1)
            idle_by = time.time() + 10   # a fragment timer (page 3) may show the widget again: do not wait forever
            while await self.page.locator("[data-testid='stStatusWidget']").count() and time.time() < idle_by:
                await asyncio.sleep(0.1)
        except Exception as exc:  # a Playwright timeout, a closed page: the session failed here
            self.errors.append(f"session {self.index}: {what}: {type(exc).__name__}: {str(exc)[:300]}")
            return None
        await self.check(what)
        return (min(ends) - self.runs.requests[asked]) / 1000

    async def check(self, what: str) -> None:
        for box in ("stException", "stAlertContentError"):
            for text in await self.page.locator(f"[data-testid='{box}']").all_inner_texts():
                self.errors.append(f"session {self.index}: {what}: {box}: {text[:300]}")

    async def open(self, url: str, ready: str) -> None:
        async def go() -> None:
            await self.page.goto(url)
        await self.act("open", go)
        await self.widget(ready).first.wait_for(timeout=ACTION_LIMIT_S * 1000)

    async def navigate(self, link: str, ready: str) -> None:
        await self.act(f"open {link}", lambda: self.page.get_by_role("link", name=link, exact=True).click())
        await self.widget(ready).first.wait_for(timeout=ACTION_LIMIT_S * 1000)

    async def set_number(self, key: str, value: float) -> None:
        async def fill() -> None:
            box = self.widget(key).locator("input")
            await box.fill(str(value))
            await box.press("Enter")
        await self.act(f"set {key}", fill)


# -- what the sessions do ----------------------------------------------------------------------------
async def launch_training(s: Session, url: str) -> None:
    """Session 0: a long CPU demo run on the seed split (cancelled at the end)."""
    await s.open(f"{url}/?lang={LANG}", ready="dados_tokens")
    await s.navigate(T("nav.treino"), ready="treino.launch")
    await s.set_number("treino.max_steps", 500)
    await s.act("launch", lambda: s.widget("treino.launch").locator("button").click())


async def curate(s: Session, url: str, until: float) -> None:
    await s.open(f"{url}/?lang={LANG}", ready="dados_tokens")
    n = 0
    while (n < MIN_SLIDER_MOVES or time.time() < until) and not s.errors:
        key, thumb, press = MOVES[(n + s.index) % len(MOVES)]

        async def move(key: str = key, thumb: int = thumb, press: str = press) -> None:
            handle = s.widget(key).locator("input[type=range]").nth(thumb)
            await handle.focus()
            await handle.press(press)
        took = await s.act(f"slider {key} {press}", move)
        if took is not None:
            s.slider_s.append(took)
            if not await s.page.locator("[data-testid='stMetric']").count():
                s.errors.append(f"session {s.index}: the funnel figures are gone after a slider change")
        n += 1
    # One write per curation session: its filters saved as a named preset.
    name = f"carga-{s.index}"

    async def save() -> None:
        box = s.widget("dados_preset_name").locator("input")
        await box.fill(name)
        await box.press("Enter")
    await s.act("preset name", save)
    await s.act("save preset", lambda: s.widget("dados_preset_save").locator("button").click())
    if await s.page.get_by_text(T("dados.preset_saved", name=name)).count():
        s.presets_saved.append(name)
    else:
        s.errors.append(f"session {s.index}: saving preset {name} showed no confirmation")


async def playground(s: Session, url: str, until: float) -> None:
    await s.open(f"{url}/?lang={LANG}", ready="dados_tokens")
    await s.navigate(T("nav.playground"), ready="pg_mode")

    async def add_model() -> None:
        await s.widget("pg_models").locator("[role=combobox]").click()
        await s.page.get_by_role("option", name=f"{OPENAI_MODEL} · openai", exact=True).click()
        await s.page.keyboard.press("Escape")
    # The study's current models are shared: once a session has chosen the OpenAI model, later
    # sessions open with it already selected (and then it is no longer an option to click).
    if not await s.widget("pg_models").get_by_text(f"{OPENAI_MODEL} · openai", exact=True).count():
        await s.act("add model", add_model)
    details = s.page.locator("[data-testid='stExpander'] details").filter(
        has=s.page.locator("summary", has_text=T("playground.settings_shared"))).last
    await details.locator("summary").first.click()
    await s.set_number("pg_shared_max_new_tokens", MAX_NEW_TOKENS)
    n = 0
    while (n < MIN_GENERATIONS or time.time() < until) and not s.errors:
        prompt = f"Carga s{s.index} n{n}: descreva o livro 'A cidade e as serras'"

        async def type_prompt(prompt: str = prompt) -> None:
            box = s.widget("pg_prompt").locator("textarea")
            await box.fill(prompt)
            await box.press("Control+Enter")
        await s.act("prompt", type_prompt)
        clicked = time.time()
        took = await s.act("generate", lambda: s.widget("pg_generate").locator("button").click())
        if took is not None:
            # the answers come from background threads, drawn by a fragment: wait for the last one
            stored = s.page.get_by_text(T("playground.stored", count=2))
            deadline = clicked + ACTION_LIMIT_S
            while not await stored.count() and time.time() < deadline and not s.errors:
                await asyncio.sleep(0.2)
                await s.check("generate")
            if await stored.count():
                s.generate_s.append(time.time() - clicked)
                s.prompts_done.append(prompt)
            else:
                s.errors.append(f"session {s.index}: generation {n}: no 'stored' line in {ACTION_LIMIT_S:.0f} s")
        n += 1


async def cancel_training(s: Session, run_id: str) -> None:
    await s.navigate(T("nav.treino"), ready="treino.run")   # the new-run form is folded while a run trains
    button = s.widget(f"treino.cancel.{run_id}").locator("button")
    if await button.count():
        await button.click()   # inside the page's live fragment: a fragment rerun, not a whole one
    deadline = time.time() + 180
    while not await s.page.get_by_text(T("treino.status_cancelled"), exact=True).count():
        if time.time() > deadline:
            s.errors.append("the training run was not shown cancelled within 3 minutes")
            return
        await asyncio.sleep(1)


async def guarded(s: Session, work: Any) -> None:
    """A session that fails records why and stops; the others go on."""
    try:
        await work
    except Exception as exc:
        s.errors.append(f"session {s.index}: {type(exc).__name__}: {str(exc)[:400]}")


async def load(url: str, results: Path) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        sessions: list[Session] = []
        for i in range(SESSIONS):
            # Portuguese both ways: the URL's ?lang=pt, and a pt-BR browser for a session that starts
            # again without it (seen under load: two sessions ended in English with an en-US browser)
            context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="pt-BR")
            await context.add_init_script(WS_RECORDER)
            page = await context.new_page()
            page.set_default_timeout(ACTION_LIMIT_S * 1000)
            sessions.append(Session(i, page))
        await launch_training(sessions[0], url)
        run_dirs = sorted((results / "runs").iterdir()) if (results / "runs").is_dir() else []
        assert len(run_dirs) == 1, f"one training run launched: {run_dirs} {sessions[0].errors}"
        run_id = run_dirs[0].name
        began = time.time()
        until = began + SECONDS
        await asyncio.gather(*(guarded(s, curate(s, url, until) if s.index % 2 == 0 else playground(s, url, until))
                               for s in sessions))
        held = time.time() - began
        steps = [json.loads(line).get("step") for line in (run_dirs[0] / "events.jsonl").read_text().splitlines()
                 if '"progress"' in line]
        try:
            await cancel_training(sessions[0], run_id)
        except Exception as exc:
            sessions[0].errors.append(f"cancelling the run: {type(exc).__name__}: {str(exc)[:300]}")
        if any(s.errors for s in sessions):   # what each failing session showed
            for s in sessions:
                if s.errors:
                    await s.page.screenshot(path=str(results.parent / f"FAILED-session-{s.index}.png"), full_page=True)
                    (results.parent / f"FAILED-session-{s.index}.txt").write_text(
                        await s.page.inner_text("body") + "\n\nscript runs: " + repr(s.runs.__dict__)[-3000:])
        await browser.close()
    return {"sessions": sessions, "held_s": held, "run_id": run_id, "steps": [s for s in steps if s is not None]}


def stop_runs(results: Path) -> None:
    """Safety net: a training process our app started must not outlive the test, whatever failed.
    Its pid is in the run folder's heartbeat; it is ours when its command line names that folder."""
    for heartbeat in (results / "runs").glob("*/heartbeat"):
        try:
            pid = int(json.loads(heartbeat.read_text())["pid"])
            if str(heartbeat.parent) in Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " "):
                os.killpg(pid, signal.SIGKILL)
        except (OSError, ValueError, KeyError):
            pass


def test_ten_sessions_while_training(tmp_path: Path) -> None:
    results, data = tmp_path / "resultados", tmp_path / "dados"   # tests/conftest.py made the first
    results.mkdir(exist_ok=True)
    data.mkdir(exist_ok=True)
    try:
        with FakeOpenAI() as fake:
            env = {"FTDASH_DATA": str(data), "OPENAI_BASE_URL": fake.url, "OPENAI_API_KEY": FAKE_KEY}
            with running_app(results, extra_env=env) as url:
                outcome = asyncio.run(load(url, results))
    finally:
        stop_runs(results)
    sessions: list[Session] = outcome["sessions"]
    db_path = results / "estudo.duckdb"
    # The app is stopped: read what it wrote.
    with duckdb.connect(str(db_path), read_only=True) as db:
        stored = dict(db.execute("SELECT prompt, count(*) FROM generations WHERE source = 'playground' GROUP BY prompt")
                      .fetchall())
        presets = {r[0] for r in db.execute("SELECT name FROM curation_presets").fetchall()}
        run_status = db.execute("SELECT status FROM runs WHERE id = ?", [outcome["run_id"]]).fetchone()[0]
    done = [p for s in sessions for p in s.prompts_done]
    lost = [p for p in done if stored.get(p, 0) != 2] + [n for s in sessions for n in s.presets_saved if n not in presets]
    errors = [e for s in sessions for e in s.errors]
    report = {
        "sessions": len(sessions), "seconds_planned": SECONDS, "seconds_held": round(outcome["held_s"], 1),
        "slider_changes": figures([x for s in sessions for x in s.slider_s]),
        "generations": {**figures([x for s in sessions for x in s.generate_s]), "models_per_generation": 2,
                        "max_new_tokens": MAX_NEW_TOKENS},
        "per_session": [{"session": s.index, "role": "curation" if s.index % 2 == 0 else "playground",
                         "slider_changes": len(s.slider_s), "generations": len(s.generate_s),
                         "errors": len(s.errors)} for s in sessions],
        "writes_seen": len(done) + sum(len(s.presets_saved) for s in sessions), "lost_writes": lost,
        "errors": errors,
        "training": {"run_id": outcome["run_id"], "status_after": run_status,
                     "steps_done_during_load": max(outcome["steps"], default=0)},
        "fake_openai_chat_calls": len(fake.calls("POST", r"/chat/completions")),
        "cpu_count": os.cpu_count(), "load_average": os.getloadavg(),
    }
    out = tmp_path / "load.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    if os.environ.get("FTDASH_LOAD_REPORT"):
        Path(os.environ["FTDASH_LOAD_REPORT"]).write_text(out.read_text())
    sliders, gens = report["slider_changes"], report["generations"]
    print(f"\nload: {len(sessions)} sessions for {report['seconds_held']} s while run {outcome['run_id']} trained "
          f"({report['training']['steps_done_during_load']} steps); slider -> script finished: n={sliders.get('n')} "
          f"median {sliders.get('median_s')} s, p95 {sliders.get('p95_s')} s, max {sliders.get('max_s')} s; "
          f"generations n={gens.get('n')} median {gens.get('median_s')} s, p95 {gens.get('p95_s')} s, "
          f"max {gens.get('max_s')} s; errors {len(errors)}; lost writes {len(lost)}; report {out}")
    assert errors == [], errors
    assert lost == [], f"writes a session saw finish are missing from the database: {lost}"
    assert sliders.get("n", 0) >= MIN_SLIDER_MOVES * (SESSIONS - SESSIONS // 2), "every curation session moved sliders"
    assert gens.get("n", 0) >= MIN_GENERATIONS * (SESSIONS // 2), "every playground session generated"
    assert run_status == "cancelled", run_status
