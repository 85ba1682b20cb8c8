"""A newcomer's journey in a real browser, in one app instance, on the defaults (issues 5 and 10).

    .venv/bin/python -m pytest -q tests/browser/test_journey.py -s
    FTDASH_SCREENSHOTS=imagens/jornada .venv/bin/python -m pytest -q tests/browser/test_journey.py   # README pictures

A fresh results folder and data folder (the app writes curated/ and export/ there; the bundled raw
sample is read from the repo's dados/, never written), a browser whose locale is en-US, and nothing
chosen beforehand:

1. page 1 opens in English on the bundled sample with the ``seed-notebook`` preset: 20,000 rows
   loaded, 1,500 train / 500 test; the dataset is saved under a name;
2. page 2 opens on that dataset: its first example in every format, export + download;
3. page 3 opens on that dataset with the CPU demo preset: a few steps are launched; a second tab
   (a new page in the same browser context) opened while it trains shows the same run and
   dataset; the run finishes, with its estimate at launch beside what happened;
4. page 4 opens with the run's base and fine-tune already chosen: both answer a test example of the
   dataset side by side;
5. page 5 opens with the same models and dataset: a small evaluation, then the xlsx downloaded and
   opened with openpyxl.

On every page the language is switched to Portuguese, the page reloaded, and switched back to
English: the choices stay (dataset, preset, run, models, answers, evaluation), texts follow the
language, and no exception or error box is ever drawn. Every step saves a screenshot. Waits follow
the app's own websocket (a click is done when the script run it caused has finished), with generous
limits for a loaded 2-core machine; no fixed sleeps.
"""
from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from locales import LANGUAGES, t
from locales.numbers import integer
from tests.browser.harness import Driver, browser_context, error_boxes, full_screenshot, running_app, settle

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(3600)]

DATASET = "jornada-livros"
CURRENT = f"{DATASET}@v1"
TRAIN_ROWS, TEST_ROWS = 1500, 500   # the bundled sample under seed-notebook: the seed study's split
STEPS = 4                 # training steps of the CPU demo preset (batch 2, 128 tokens): a minute or two on 2 cores
MAX_NEW_TOKENS = 24       # playground answers
EVAL_EXAMPLES = 4
OPEN_LIMIT_S = 900        # page 1's first visit reads the 20k-row sample and counts its tokens
TRAIN_LIMIT_S = 900       # generous: a loaded 2-core machine trains ~10x slower than an idle one
EVAL_LIMIT_S = 900


class Journey:
    """The browser, the app's folders, the language on screen and the screenshots of one walk."""

    def __init__(self, app: Driver, url: str, results: Path, data: Path, screens: Path) -> None:
        self.app, self.page, self.url = app, app.page, url
        self.results, self.data, self.screens = results, data, screens
        self.lang = "en"
        self.shots: list[Path] = []
        self.timings: dict[str, float] = {}

    def T(self, key: str, **values: object) -> str:
        return t(key, self.lang, **values)

    def check(self, name: str, app: Driver | None = None) -> None:
        """What is true after every step: no exception box, no error box; then the screenshot."""
        app = app or self.app
        assert app.errors() == [], f"{name}: exception on the page: {app.errors()}"
        assert error_boxes(app.page) == [], f"{name}: error shown: {error_boxes(app.page)}"
        self.shots.append(full_screenshot(app.page, self.screens / f"{name}.png"))

    def download(self, key: str) -> Any:
        """Click a download button (it also reruns the script) and return Playwright's Download."""
        got: list[Any] = []

        def click() -> None:
            with self.page.expect_download(timeout=120_000) as info:
                self.app.widget(key).locator("button").click()
            got.append(info.value)
        self.app.act(click)
        return got[0]

    def text(self, value: str | re.Pattern[str], timeout_s: float = 120, exact: bool = False,
             page: Any = None) -> None:
        """Wait until a text is visible on the page."""
        (page or self.page).get_by_text(value, exact=exact).first.wait_for(timeout=timeout_s * 1000)

    def poll(self, done: Callable[[], bool], limit_s: float, what: str, every_ms: int = 1000) -> None:
        """Poll ``done()`` (no fixed sleeps: a loaded machine is slow, an idle one fast)."""
        deadline = time.time() + limit_s
        while not done():
            assert self.app.errors() == [], f"{what}: exception on the page: {self.app.errors()}"
            if time.time() > deadline:
                raise AssertionError(f"{what}: not done after {limit_s:.0f} s")
            self.page.wait_for_timeout(every_ms)

    def step(self, name: str, began: float) -> None:
        self.timings[name] = round(time.time() - began, 1)


def text_re(j: Journey, key: str, **groups: str) -> re.Pattern[str]:
    """A UI text (in the language on screen) as a whole-string pattern, some {fields} as regexes."""
    marks = {name: f"QQ{name}QQ" for name in groups}
    pattern = re.escape(j.T(key, **marks))
    for name, rx in groups.items():
        pattern = pattern.replace(marks[name], rx)
    return re.compile(f"^{pattern}$")


def on_page(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The same pattern for the browser's JavaScript regexes (no Python-style named groups)."""
    return re.compile(re.sub(r"\(\?P<\w+>", "(", pattern.pattern))


def number(text: str) -> float:
    return float(text.replace(",", "").replace("$", "").strip())


def selected(app: Driver, key: str) -> str:
    """What a selectbox shows: the value of its combobox input (also inside a folded expander)."""
    return app.widget(key).first.locator("input[role=combobox]").input_value()


def tags(app: Driver, key: str) -> list[str]:
    """The options chosen in a multiselect."""
    return [c.strip() for c in app.widget(key).first.locator("[data-tag]").all_text_contents()]


def radio_checked(app: Driver, key: str, label: str) -> bool:
    return app.widget(key).first.get_by_role("radio", name=label, exact=True).is_checked()


def language_round(j: Journey, name: str, title: str, ready: str, same: Callable[[], None]) -> None:
    """English -> Portuguese (a screenshot), a reload in Portuguese, and back to English; after each,
    the page's title in that language and ``same()``: the page's choices are still what they were."""
    app = j.app
    began = time.time()
    app.choose("lang", LANGUAGES["pt"])
    j.lang = "pt"
    j.text(j.T(title), exact=True)
    assert "lang=pt" in j.page.url, j.page.url
    same()
    j.check(f"{name}-pt")
    app.reload(ready)                      # a new session on the same URL: ?lang=pt and the page's choices
    j.text(j.T(title), exact=True)
    assert selected(app, "lang") == LANGUAGES["pt"], "the language survives a reload"
    same()
    j.check(f"{name}-pt-reload")
    app.choose("lang", LANGUAGES["en"])
    j.lang = "en"
    j.text(j.T(title), exact=True)
    assert "lang=en" in j.page.url, j.page.url
    same()
    j.check(f"{name}-en-again")
    j.step(f"{name}: language and reload", began)


# -- the steps ---------------------------------------------------------------------------------------
def curate(j: Journey) -> None:
    """Page 1 on the defaults: the bundled sample, seed-notebook, 1,500 / 500; saved under a name."""
    app = j.app
    began = time.time()
    app.open(j.url, ready="dados_save", timeout_s=OPEN_LIMIT_S)   # drawn once the sample is read and counted
    j.step("page 1: first open", began)
    j.text(j.T("dados.title"), exact=True)         # a browser in en-US, nothing stored: English

    def same() -> None:
        assert radio_checked(app, f"dados_source__{j.lang}", j.T("dados.source.sample")), "the bundled sample"
        assert "seed-notebook" in selected(app, "dados_preset"), "the seed-notebook preset"
        assert app.metric(j.T("dados.metric.loaded")) == integer(20_000, j.lang)
        assert app.metric(j.T("dados.metric.train")) == integer(TRAIN_ROWS, j.lang)
        assert app.metric(j.T("dados.metric.test")) == integer(TEST_ROWS, j.lang)
        funnel = app.widget("dados_funnel_chart")
        assert funnel.locator(".js-plotly-plot").count() == 1, "the funnel is drawn"

    same()
    kept = number(app.metric(j.T("dados.metric.kept")))
    assert TRAIN_ROWS + TEST_ROWS <= kept < 20_000
    j.check("01-dados-en")
    language_round(j, "01-dados", "dados.title", "dados_save", same)

    began = time.time()
    app.set_text("dados_save_name", DATASET)
    app.click("dados_save")
    folder = j.data / "curated" / DATASET / "v1"
    j.text(j.T("dados.saved", name=DATASET, version=1, train=integer(TRAIN_ROWS, j.lang),
                    test=integer(TEST_ROWS, j.lang), folder=folder))
    for split, rows in (("train", TRAIN_ROWS), ("test", TEST_ROWS)):
        lines = (folder / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(lines) == rows and all({"title", "content"} <= set(json.loads(x)) for x in lines)
    j.step("page 1: save", began)
    j.check("01-dados-salvo")


def formats(j: Journey) -> None:
    """Page 2 opens on the saved dataset: every format of its first example, export + download."""
    app = j.app
    began = time.time()
    app.navigate(j.T("nav.formatos"), ready="formatos_source")
    first = json.loads((j.data / "curated" / DATASET / "v1" / "train.jsonl").open(encoding="utf-8").readline())

    def same() -> None:
        assert CURRENT in selected(app, "formatos_source"), "page 2 opens with the dataset saved on page 1"
        j.text(j.T("formatos.example_of", n=1, total=integer(TRAIN_ROWS, j.lang), title=first["title"]), exact=True)
        assert radio_checked(app, "formatos_split", j.T("formatos.split_train"))

    same()
    texts = j.page.locator("[data-testid='stCode']:visible").all_inner_texts()[:5]   # the five formats, side by side
    for shown in texts:
        assert first["title"] in shown, "every format shows the example's exact title"
    assert any("<|im_start|>" in x for x in texts), "the local chat template (SmolLM2's ChatML) is rendered"
    assert any("### Instruction:" in x for x in texts), "the Alpaca prompt is rendered"
    j.check("02-formatos-en")

    j.page.get_by_role("tab", name=j.T("formatos.tab_export"), exact=True).click()
    app.click("formatos_export")
    target = j.data / "export" / f"{CURRENT}_openai-chat_train.jsonl"
    j.page.get_by_text(on_page(text_re(j, "formatos.exported", path=re.escape(str(target)),
                                       n=re.escape(integer(TRAIN_ROWS, j.lang)), tokens=r"[\d,]+"))).wait_for()
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == TRAIN_ROWS and all("messages" in json.loads(x) for x in lines)
    download = j.download("formatos_download")
    assert download.suggested_filename == target.name
    assert Path(download.path()).read_bytes() == target.read_bytes(), "the download is the exported file"
    j.step("page 2", began)
    j.check("02-formatos-exportado")
    language_round(j, "02-formatos", "formatos.title", "formatos_source", same)


def train(j: Journey, context: Any) -> str:
    """Page 3 opens on the saved dataset with the CPU demo preset; a few steps, watched to the end,
    and a second tab opened meanwhile sees the same run."""
    app = j.app
    began = time.time()
    app.navigate(j.T("nav.treino"), ready="treino.launch")

    def same_form() -> None:
        assert CURRENT in selected(app, "treino.data"), "page 3 opens with the dataset saved on page 1"
        assert radio_checked(app, "treino.preset", j.T("treino.preset_cpu-demo")), "the CPU demo preset"

    same_form()
    j.check("03-treino-en")
    language_round(j, "03-treino", "treino.title", "treino.launch", same_form)
    app.set_number("treino.max_steps", STEPS)
    app.set_number("treino.eval_every", 2)
    app.set_number("treino.save_every", 0)
    app.expand(j.T("treino.advanced"))
    app.set_number("treino.eval_examples", 4)
    same_form()
    assert app.metric(j.T("treino.est_time")) not in ("", "-"), "an estimate is shown before launching"
    started = time.time()
    app.click("treino.launch")
    runs = sorted((j.results / "runs").iterdir())
    assert len(runs) == 1, "one run folder"
    run_id = runs[0].name
    j.text(j.T("treino.launched", run=run_id))
    assert f"run={run_id}" in j.page.url, "the launched run is in the tab's URL"

    # A second tab, opened while the run trains, on the page's bare address: the run and the dataset
    # come from the database (the current choices), the language from the stored choice.
    second = Driver(context.new_page(), timeout_s=app.timeout_s)
    second.open(j.url + "/treino", ready="treino.run")
    j.text(j.T("treino.title"), exact=True, page=second.page)
    assert run_id in selected(second, "treino.run"), "the second tab shows the same run"
    assert CURRENT in selected(second, "treino.data"), "the second tab shows the same dataset"
    second.page.get_by_text(re.compile(re.escape(f"· {DATASET} ·"))).first.wait_for()   # the run's own line
    j.check("03-treino-segunda-aba", second)

    seen: set[str] = set()

    def finished() -> bool:
        for status in ("running", "succeeded", "failed", "lost"):
            if j.page.get_by_text(j.T(f"treino.status_{status}"), exact=True).count():
                seen.add(status)
        if "failed" in seen or "lost" in seen:
            log = (runs[0] / "output.log").read_text(errors="replace")[-3000:]
            raise AssertionError(f"the run ended badly: {seen}\n{log}")
        return "succeeded" in seen

    j.poll(finished, TRAIN_LIMIT_S, "training")
    j.timings["train_s"] = round(time.time() - started, 1)
    done = text_re(j, "treino.progress", step=str(STEPS), total=str(STEPS), epoch=r"[\d.,]+")
    j.page.get_by_text(on_page(done)).wait_for()   # the bar at the last step
    curve = app.widget(f"treino.curve.{run_id}")
    curve.locator(".js-plotly-plot").first.wait_for()
    final = app.metric(j.T("treino.final_loss"))
    assert 0 < number(final) < 20, f"a final loss is shown: {final}"
    assert (runs[0] / "adapter").is_dir(), "the adapter was saved"

    def same_run() -> None:
        assert run_id in selected(app, "treino.run")
        j.text(j.T("treino.status_succeeded"), exact=True)
        j.text(j.T("treino.check_title"))       # the estimate made at launch beside what happened
        check = j.page.locator("[data-testid='stDataFrame']").filter(has_text=j.T("treino.check_estimated"))\
            .filter(has_text=j.T("treino.check_actual")).first
        check.wait_for()
        rows = check.locator("[role=row]").all_inner_texts()
        assert len(rows) == 3, rows             # header, time, cost: each estimated, actual and error
        for key, row in (("treino.check_time", rows[1]), ("treino.check_cost", rows[2])):
            assert row.startswith(j.T(key)) and "n/a" not in row, (key, rows)
        assert CURRENT in selected(app, "treino.data")

    same_run()
    # the second tab follows the run to its end by itself (its live section polls the database)
    second.page.get_by_text(j.T("treino.status_succeeded"), exact=True).first.wait_for(timeout=300_000)
    j.check("03-treino-segunda-aba-fim", second)
    second.page.close()
    j.step("page 3", began)
    j.check("03-treino-concluido")
    language_round(j, "03-treino-fim", "treino.title", "treino.run", same_run)
    return run_id


def playground(j: Journey, run_id: str) -> None:
    """Page 4: the run's base and fine-tune, already chosen, answer a test example side by side."""
    app = j.app
    began = time.time()
    app.navigate(j.T("nav.playground"), ready="pg_mode")
    finetune = f"{run_id} · local-finetune"
    assert finetune in tags(app, "pg_models"), f"the run's fine-tune is already chosen: {tags(app, 'pg_models')}"
    assert len(tags(app, "pg_models")) == 2, tags(app, "pg_models")
    app.radio("pg_source", j.T("playground.source_example"))
    example = json.loads((j.data / "curated" / DATASET / "v1" / "test.jsonl").open(encoding="utf-8").readline())

    def same() -> None:
        assert CURRENT in selected(app, "pg_dataset"), "page 4 opens with the dataset saved on page 1"
        assert radio_checked(app, "pg_source", j.T("playground.source_example"))
        j.text(example["title"], exact=True)
        chosen = tags(app, "pg_models")
        assert finetune in chosen and len(chosen) == 2, chosen

    same()
    app.expand(j.T("playground.settings_shared"))
    app.set_number("pg_shared_max_new_tokens", MAX_NEW_TOKENS)
    app.click("pg_generate", timeout_s=600)
    # the answers are made in the background and drawn as they grow (a fragment): wait for the end
    j.text(j.T("playground.stored", count=2), timeout_s=600)

    def answered() -> None:
        same()
        j.text(j.T("playground.stored", count=2), timeout_s=300)
        lines = j.page.get_by_text(on_page(text_re(j, "playground.metrics_line", first=".+", total=".+",
                                                   tin=r"[\d.,]+", tout=r"[\d.,]+", cost=".+")))
        assert lines.count() == 2, "latency, tokens and cost under each answer"

    answered()
    j.step("page 4", began)
    j.check("04-playground-en")
    language_round(j, "04-playground", "playground.title", "pg_mode", answered)


def evaluate(j: Journey, run_id: str) -> str:
    """Page 5: a small evaluation of the run's base vs fine-tune on the dataset; the xlsx."""
    from openpyxl import load_workbook

    app = j.app
    began = time.time()
    app.navigate(j.T("nav.resultados"), ready="rs_start")
    finetune = f"{run_id} · local-finetune"
    chosen = tags(app, "rs_models")
    assert finetune in chosen and len(chosen) == 2, f"the run's base and fine-tune: {chosen}"
    assert CURRENT in selected(app, "rs_data"), "page 5 opens with the dataset saved on page 1"
    j.check("05-resultados-en")
    app.set_number("rs_limit", EVAL_EXAMPLES)
    app.set_number("rs_max_new", 32)
    started = time.time()
    app.click("rs_start")
    finished = j.page.get_by_text(j.T("resultados.state.succeeded", done=2 * EVAL_EXAMPLES, total=2 * EVAL_EXAMPLES))

    def done() -> bool:
        assert error_boxes(j.page) == [], f"the evaluation failed: {error_boxes(j.page)}"
        return finished.count() > 0

    j.poll(done, EVAL_LIMIT_S, "evaluation")      # the progress bar ends, the page reruns with the results
    j.timings["eval_s"] = round(time.time() - started, 1)
    settle(j.page)
    eval_id = selected(app, "rs_eval_select").split(" · ")[-1].strip()
    assert eval_id, "the evaluation is chosen"

    def same() -> None:
        assert eval_id in selected(app, "rs_eval_select")
        assert CURRENT in selected(app, "rs_data")
        chosen = tags(app, "rs_models")
        assert finetune in chosen and len(chosen) == 2, chosen
        app.widget("rs_fig_board").locator(".js-plotly-plot").first.wait_for()
        j.text(j.T("resultados.state.succeeded", done=2 * EVAL_EXAMPLES, total=2 * EVAL_EXAMPLES))

    same()
    board = j.page.locator("[data-testid='stDataFrame']:visible").filter(has_text=j.T("resultados.col.main_low"))\
        .first.locator("[role=row]").all_inner_texts()
    assert len(board) == 3, board
    j.check("05-resultados-classificacao")

    j.page.get_by_role("tab", name=j.T("resultados.tab.files"), exact=True).click()
    app.click("rs_build_xlsx", timeout_s=300)
    name = f"comparacao-{eval_id}.xlsx"
    download = j.download("rs_download")
    assert download.suggested_filename == name
    path = j.results / "download.xlsx"
    download.save_as(path)
    book = load_workbook(path)
    for sheet in ("summary", "leaderboard", "criteria", "scores", "answers", "runs", "curation", "prices", "models"):
        assert sheet in book.sheetnames, (sheet, book.sheetnames)
    answers = list(book["answers"].iter_rows(values_only=True))
    assert len(answers) - 1 == 2 * EVAL_EXAMPLES, f"one row per answer: {len(answers) - 1}"
    assert any(run_id in str(c.value) for row in book["runs"].iter_rows() for c in row), "the run is in the workbook"
    j.step("page 5", began)
    j.check("05-resultados-xlsx")
    language_round(j, "05-resultados", "resultados.title", "rs_eval_select", same)   # the form is folded now
    return eval_id


# -- the test ----------------------------------------------------------------------------------------
def test_newcomer_journey(tmp_path: Path, screens: Path) -> None:
    results, data = tmp_path / "resultados", tmp_path / "dados"   # tests/conftest.py made the first
    results.mkdir(exist_ok=True)
    data.mkdir(exist_ok=True)
    began = time.time()
    with running_app(results, extra_env={"FTDASH_DATA": str(data)}) as url, browser_context("en-US") as context:
        page = context.new_page()
        page.set_default_timeout(180_000)
        j = Journey(Driver(page, timeout_s=300), url, results, data, screens)
        try:
            curate(j)
            formats(j)
            run_id = train(j, context)
            playground(j, run_id)
            eval_id = evaluate(j, run_id)
        except BaseException:
            for n, tab in enumerate(context.pages):   # what each tab showed when a check failed
                full_screenshot(tab, screens / f"FAILED-{n}.png")
            raise
    # The app is stopped: its database can be opened. What the screens showed was stored.
    with duckdb.connect(str(results / "estudo.duckdb"), read_only=True) as db:
        assert db.execute("SELECT status FROM runs WHERE id = ?", [run_id]).fetchone() == ("succeeded",)
        assert db.execute("SELECT count(*) FROM generations WHERE source = 'playground'").fetchone()[0] == 2
        assert db.execute("SELECT count(*) FROM curated_datasets WHERE name = ?", [DATASET]).fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM evaluations WHERE id = ?", [eval_id]).fetchone()[0] == 1
    assert not (Path(__file__).resolve().parents[2] / "dados" / "curated" / DATASET).exists(), "the repo's dados/ is read only"
    print(f"\njourney: {time.time() - began:.0f} s; steps (s): {json.dumps(j.timings)}; screenshots in {screens}")
