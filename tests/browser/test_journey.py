"""The whole journey in a real browser, as a person walks it, in one app instance (issue 5).

    .venv/bin/python -m pytest -q tests/browser/test_journey.py
    FTDASH_SCREENSHOTS=imagens/jornada .venv/bin/python -m pytest -q tests/browser/test_journey.py   # README pictures

The app runs with its own results and data folders (tests/browser/harness.py), on the bundled raw
sample and the bundled SmolLM2: switch the sidebar to English → page 1 curate with a slider (the
funnel numbers change) and save a named dataset → page 2 read the exact text of every format and
the token table, export and download the file → page 3 launch a few steps of the CPU demo preset
and watch it finish (progress, loss curve) → page 4 base and fine-tuned side by side on a test
example, then a blind arena round and a vote → page 5 a small evaluation, its charts, and the xlsx
downloaded and opened with openpyxl. Every step checks what a person would read on screen, that no
exception box is drawn, and saves a screenshot. Waits follow the app's own websocket (a click is
done when the script run it caused has finished), with generous limits for a loaded machine.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from locales import t
from tests.browser.harness import Driver, browser_page, error_boxes, full_screenshot, running_app, settle

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1800)]

LANG = "en"
DATASET = "jornada-livros"
TRAIN_ROWS, TEST_ROWS = 48, 16
STEPS = 4                 # training steps of the CPU demo preset (batch 2, 128 tokens): a minute or two on 2 cores
MAX_NEW_TOKENS = 24       # playground / arena answers
EVAL_EXAMPLES = 4
TRAIN_LIMIT_S = 900       # generous: a loaded 2-core machine trains ~10x slower than an idle one
EVAL_LIMIT_S = 600


def T(key: str, **values: object) -> str:
    return t(key, LANG, **values)


class Journey:
    """The browser, the app's folders and the screenshots of one walk through the app."""

    def __init__(self, app: Driver, url: str, results: Path, data: Path, screens: Path) -> None:
        self.app, self.page, self.url = app, app.page, url
        self.results, self.data, self.screens = results, data, screens
        self.shots: list[Path] = []
        self.timings: dict[str, float] = {}

    def check(self, name: str) -> None:
        """What is true after every step: no exception box on the page; then the screenshot."""
        assert self.app.errors() == [], f"{name}: exception on the page: {self.app.errors()}"
        assert error_boxes(self.page) == [], f"{name}: error shown: {error_boxes(self.page)}"
        self.shots.append(full_screenshot(self.page, self.screens / f"{name}.png"))

    def download(self, key: str) -> Any:
        """Click a download button (it also reruns the script) and return Playwright's Download."""
        got: list[Any] = []

        def click() -> None:
            with self.page.expect_download(timeout=60_000) as info:
                self.app.widget(key).locator("button").click()
            got.append(info.value)
        self.app.act(click)
        return got[0]

    def text(self, value: str, timeout_s: float = 60, exact: bool = False) -> None:
        """Wait until a text is visible on the page."""
        self.page.get_by_text(value, exact=exact).first.wait_for(timeout=timeout_s * 1000)

    def poll(self, done: object, limit_s: float, what: str, every_ms: int = 1000) -> None:
        """Poll ``done()`` (no fixed sleeps only: a loaded machine is slow, an idle one fast)."""
        deadline = time.time() + limit_s
        while not done():
            assert self.app.errors() == [], f"{what}: exception on the page: {self.app.errors()}"
            if time.time() > deadline:
                raise AssertionError(f"{what}: not done after {limit_s:.0f} s")
            self.page.wait_for_timeout(every_ms)


def text_re(key: str, **groups: str) -> re.Pattern[str]:
    """A UI text as a whole-string pattern, with some of its {fields} given as regexes."""
    marks = {name: f"QQ{name}QQ" for name in groups}
    pattern = re.escape(T(key, **marks))
    for name, rx in groups.items():
        pattern = pattern.replace(marks[name], rx)
    return re.compile(f"^{pattern}$")


def on_page(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The same pattern for the browser's JavaScript regexes (no Python-style named groups)."""
    return re.compile(re.sub(r"\(\?P<\w+>", "(", pattern.pattern))


def number(text: str) -> float:
    return float(text.replace(",", "").replace("$", "").strip())


# -- the steps ---------------------------------------------------------------------------------------
def start(j: Journey) -> None:
    """Open the base URL (the first page), switch the sidebar to English."""
    j.app.open(j.url, ready="dados_tokens", timeout_s=300)
    j.app.choose("lang", "English")
    j.text(T("dados.title"), exact=True)


def curate(j: Journey) -> None:
    """Page 1: a slider changes the funnel; a named curated dataset is saved."""
    app = j.app
    loaded, kept = number(app.metric(T("dados.metric.loaded"))), number(app.metric(T("dados.metric.kept")))
    assert loaded == 20_000, "the bundled raw sample has 20,000 rows"
    assert 0 < kept < loaded
    funnel = app.widget("dados_funnel_chart")
    assert funnel.locator(".js-plotly-plot").count() == 1, "the funnel is drawn"
    before = app.slider_value("dados_title_chars", 0)
    app.slider_key("dados_title_chars", "Home", thumb=0)            # minimum title length -> 0
    assert app.slider_value("dados_title_chars", 0) == 0 < before
    kept_after = number(app.metric(T("dados.metric.kept")))
    assert kept_after > kept, f"a looser title filter keeps more rows ({kept} -> {kept_after})"
    assert str(int(kept_after)) in funnel.locator(".js-plotly-plot").first.text_content(), "the funnel shows the new count"
    assert kept_after >= TRAIN_ROWS + TEST_ROWS
    app.set_number("dados_train", TRAIN_ROWS)
    app.set_number("dados_test", TEST_ROWS)
    assert number(app.metric(T("dados.metric.train"))) == TRAIN_ROWS
    assert number(app.metric(T("dados.metric.test"))) == TEST_ROWS
    app.set_text("dados_save_name", DATASET)
    app.click("dados_save")
    folder = j.data / "curated" / DATASET / "v1"
    j.text(T("dados.saved", name=DATASET, version=1, train=TRAIN_ROWS, test=TEST_ROWS, folder=folder))
    for split, rows in (("train", TRAIN_ROWS), ("test", TEST_ROWS)):
        lines = (folder / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(lines) == rows and all({"title", "content"} <= set(json.loads(x)) for x in lines)
    j.check("01-dados-curadoria")


def formats(j: Journey) -> None:
    """Page 2: the saved dataset's first example in every format, token table, export + download."""
    app = j.app
    app.navigate(T("nav.formatos"), ready="formatos_source")
    # the dataset saved on page 1 is what page 2 opens with (so do pages 3-5): nothing to choose again
    assert f"{DATASET}@v1" in app.widget("formatos_source").inner_text()
    first = json.loads((j.data / "curated" / DATASET / "v1" / "train.jsonl").open(encoding="utf-8").readline())
    j.text(T("formatos.example_of", n=1, total=TRAIN_ROWS, title=first["title"]), exact=True)
    texts = j.page.locator("[data-testid='stCode']:visible").all_inner_texts()[:5]   # the five formats, side by side
    for shown in texts:
        assert first["title"] in shown, "every format shows the example's exact title"
        assert first["content"][:60] in shown.replace("\n", " ") or first["content"][:60] in shown
    assert any("<|im_start|>" in x for x in texts), "the local chat template (SmolLM2's ChatML) is rendered"
    assert any("### Instruction:" in x for x in texts), "the Alpaca prompt is rendered"
    caption = text_re("formatos.tokens_caption", tokens=r"(?P<tokens>\d+)", tokenizer=".+", raw=r"(?P<raw>\d+)",
                      overhead=r"(?P<overhead>-?\d+)")
    captions = j.page.get_by_text(on_page(caption)).all_inner_texts()
    assert len(captions) == 5, captions
    for shown in captions:
        parts = caption.match(shown)
        assert int(parts["tokens"]) - int(parts["raw"]) == int(parts["overhead"]), shown
    grid = j.page.locator("[data-testid='stDataFrame']").filter(has_text=T("formatos.col_overhead_pct")).first
    rows = grid.locator("[role=row]").all_inner_texts()
    assert len(rows) == 1 + 5, rows
    for fmt in ("openai-chat", "alpaca", "sharegpt", "chat-template", "completion"):
        assert any(row.startswith(T(f"formatos.fmt_{fmt}")) for row in rows[1:]), (fmt, rows)
    j.check("02-formatos-lado-a-lado")

    j.page.get_by_role("tab", name=T("formatos.tab_export"), exact=True).click()
    app.click("formatos_export")
    target = j.data / "export" / f"{DATASET}@v1_openai-chat_train.jsonl"
    j.page.get_by_text(text_re("formatos.exported", path=re.escape(str(target)), n=str(TRAIN_ROWS), tokens=r"[\d,]+"))\
        .wait_for(timeout=60_000)
    assert target.is_file()
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == TRAIN_ROWS and all("messages" in json.loads(x) for x in lines)
    download = j.download("formatos_download")
    assert download.suggested_filename == target.name
    assert Path(download.path()).read_bytes() == target.read_bytes(), "the download is the exported file"
    j.check("03-formatos-exportar")


def train(j: Journey) -> str:
    """Page 3: a few steps of the CPU demo preset on the saved dataset, watched until it succeeds."""
    app = j.app
    app.navigate(T("nav.treino"), ready="treino.launch")
    assert f"{DATASET}@v1" in app.widget("treino.data").inner_text(), "page 3 opens with the saved dataset"
    assert j.page.locator(".st-key-treino-preset").get_by_role("radio", name=T("treino.preset_cpu-demo")).is_checked()
    app.set_number("treino.max_steps", STEPS)
    app.set_number("treino.eval_every", 2)
    app.set_number("treino.save_every", 0)
    app.expand(T("treino.advanced"))
    app.set_number("treino.eval_examples", 4)
    assert app.metric(T("treino.est_time")) not in ("", "-"), "an estimate is shown before launching"
    started = time.time()
    app.click("treino.launch")
    runs = sorted((j.results / "runs").iterdir())
    assert len(runs) == 1, "one run folder"
    run_id = runs[0].name
    j.text(T("treino.launched", run=run_id), timeout_s=30)
    seen: set[str] = set()

    def finished() -> bool:
        for status in ("running", "succeeded", "failed", "lost"):
            if j.page.get_by_text(T(f"treino.status_{status}"), exact=True).count():
                seen.add(status)
        progress = j.page.get_by_text(on_page(text_re("treino.progress", step=r"\d+", total=str(STEPS), epoch=r"[\d.]+")))
        if progress.count():
            seen.add(progress.first.inner_text())
        if "failed" in seen or "lost" in seen:
            log = (runs[0] / "output.log").read_text(errors="replace")[-3000:]
            raise AssertionError(f"the run ended badly: {seen}\n{log}")
        return "succeeded" in seen

    j.poll(finished, TRAIN_LIMIT_S, "training")
    j.timings["train_s"] = time.time() - started
    done = text_re("treino.progress", step=str(STEPS), total=str(STEPS), epoch=r"[\d.]+")
    j.page.get_by_text(on_page(done)).wait_for(timeout=60_000)   # the bar at the last step
    curve = app.widget(f"treino.curve.{run_id}")
    curve.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    assert T("treino.curve_train_loss") in curve.inner_text()
    final = app.metric(T("treino.final_loss"))
    assert 0 < number(final) < 20, f"a final loss is shown: {final}"
    assert (runs[0] / "adapter").is_dir(), "the adapter was saved"
    j.check("04-treino-concluido")
    return run_id


def playground(j: Journey, run_id: str) -> None:
    """Page 4: base and fine-tuned side by side on a test example of the saved dataset."""
    app = j.app
    app.navigate(T("nav.playground"), ready="pg_mode")
    app.radio("pg_source", T("playground.source_example"))
    app.widget("pg_dataset").wait_for()
    assert f"{DATASET}@v1" in app.widget("pg_dataset").inner_text(), "page 4 opens with the saved dataset"
    example = json.loads((j.data / "curated" / DATASET / "v1" / "test.jsonl").open(encoding="utf-8").readline())
    j.text(example["title"], exact=True)
    chosen = app.widget("pg_models").locator("[data-tag]").all_inner_texts()
    assert f"{run_id} · local-finetune" in [c.strip() for c in chosen], f"the run's base and fine-tune: {chosen}"
    app.expand(T("playground.settings_shared"))
    app.set_number("pg_shared_max_new_tokens", MAX_NEW_TOKENS)
    app.click("pg_generate", timeout_s=600)
    # the answers are made in the background and drawn as they grow (a fragment): wait for the end
    j.text(T("playground.stored", count=2), timeout_s=600)
    lines = j.page.get_by_text(on_page(text_re("playground.metrics_line", first=r"[\d.]+ s", total=r"[\d.]+ s", tin=r"\d+",
                                       tout=r"\d+", cost=".+")))
    assert lines.count() == 2, "latency, tokens and cost under each answer"
    answers = lines.all_inner_texts()
    assert all(int(text_re("playground.metrics_line", first=".+", total=".+", tin=r"\d+", tout=r"(?P<out>\d+)",
                           cost=".+").match(a)["out"]) > 0 for a in answers), answers
    j.check("05-playground-lado-a-lado")


def arena(j: Journey, run_id: str) -> None:
    """Page 4, blind arena: two hidden models answer, the vote reveals them and feeds the leaderboard."""
    app = j.app
    app.radio("pg_mode", T("playground.mode_arena"))
    pool = app.widget("pg_arena_pool")
    for option in pool.locator("[data-tag]").all_inner_texts():
        if option.strip() not in ("SmolLM2-135M-Instruct (bundled) · local-base", f"{run_id} · local-finetune"):
            app.remove_option("pg_arena_pool", option.strip())
    app.expand(T("playground.settings_shared"))
    app.set_number("pg_arena_max_new_tokens", MAX_NEW_TOKENS)
    app.click("pg_arena_new", timeout_s=600)
    app.widget("pg_vote_a").wait_for(timeout=600_000)
    app.click("pg_vote_a")
    voted = text_re("playground.voted", vote=re.escape(T("playground.vote_left")), left="(?P<left>.+)",
                    right="(?P<right>.+)")
    j.page.get_by_text(on_page(voted)).wait_for(timeout=60_000)
    shown = voted.match(j.page.get_by_text(on_page(voted)).inner_text())
    assert {shown["left"], shown["right"]} == {"local:smollm2", f"local-ft:{run_id}"}, "the vote reveals both models"
    table = j.page.locator("[data-testid='stDataFrame']").filter(has_text=T("playground.col_rating"))
    table.wait_for(timeout=60_000)
    board = table.locator("[role=row]").all_inner_texts()
    assert len(board) == 3, board
    j.check("06-arena-voto")


def evaluate(j: Journey, run_id: str) -> str:
    """Page 5: a small evaluation of base vs fine-tuned; leaderboard, cost and criteria charts."""
    app = j.app
    app.navigate(T("nav.resultados"), ready="rs_start")
    chosen = app.widget("rs_models").locator("[data-tag]").all_inner_texts()
    assert f"{run_id} · local-finetune" in [c.strip() for c in chosen], f"the run's base and fine-tune: {chosen}"
    assert f"{DATASET}@v1" in app.widget("rs_data").inner_text(), "page 5 opens with the saved dataset"
    app.set_number("rs_limit", EVAL_EXAMPLES)
    app.set_number("rs_max_new", 32)
    started = time.time()
    app.click("rs_start")
    finished = j.page.get_by_text(T("resultados.state.succeeded", done=2 * EVAL_EXAMPLES, total=2 * EVAL_EXAMPLES))

    def done() -> bool:
        assert error_boxes(j.page) == [], f"the evaluation failed: {error_boxes(j.page)}"
        return finished.count() > 0

    j.poll(done, EVAL_LIMIT_S, "evaluation")      # the progress bar ends, the page reruns with the results
    j.timings["eval_s"] = time.time() - started
    settle(j.page)
    app.widget("rs_fig_board").locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    board = j.page.locator("[data-testid='stDataFrame']:visible").filter(has_text=T("resultados.col.main_low")).first\
        .locator("[role=row]").all_inner_texts()
    assert len(board) == 3, board
    j.check("07-resultados-classificacao")
    j.page.get_by_role("tab", name=T("resultados.tab.costs"), exact=True).click()
    for key in ("rs_fig_cost", "rs_fig_parts", "rs_fig_training", "rs_fig_loss"):
        app.widget(key).locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    j.check("08-resultados-custo-tempo")
    j.page.get_by_role("tab", name=T("resultados.tab.criteria"), exact=True).click()
    app.widget("rs_fig_criteria").locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    j.check("09-resultados-criterios")
    return j.page.get_by_role("combobox", name=T("resultados.evaluation")).input_value().split(" · ")[-1]


def xlsx(j: Journey, run_id: str, eval_id: str) -> None:
    """Page 5, files: build the workbook, download it, open it with openpyxl."""
    from openpyxl import load_workbook

    app = j.app
    j.page.get_by_role("tab", name=T("resultados.tab.files"), exact=True).click()
    app.click("rs_build_xlsx", timeout_s=300)
    name = f"comparacao-{eval_id}.xlsx"
    download = j.download("rs_download")
    assert download.suggested_filename == name
    path = j.results / "download.xlsx"
    download.save_as(path)
    book = load_workbook(path)
    sheets = book.sheetnames
    for sheet in ("summary", "leaderboard", "criteria", "scores", "answers", "runs", "votes", "curation", "prices",
                  "models"):
        assert sheet in sheets, (sheet, sheets)
    pair = book["SmolLM2_135M_Instruct"]
    headers = [c.value for c in next(pair.iter_rows(min_row=1, max_row=1))]
    assert headers == ["Titulo", "Descrição do dataset", "Finetuned SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct"]
    rows = list(pair.iter_rows(min_row=2, values_only=True))
    assert len(rows) == EVAL_EXAMPLES and all(r[0] and r[1] and r[2] is not None and r[3] is not None for r in rows)
    assert any(run_id in str(c.value) for row in book["runs"].iter_rows() for c in row)
    assert book["votes"].max_row == 2, "the arena vote is in the workbook"
    j.check("10-resultados-xlsx")


# -- the test ----------------------------------------------------------------------------------------
def test_whole_journey(tmp_path: Path, screens: Path) -> None:
    results, data = tmp_path / "resultados", tmp_path / "dados"   # tests/conftest.py made the first
    results.mkdir(exist_ok=True)
    data.mkdir(exist_ok=True)
    began = time.time()
    with running_app(results, extra_env={"FTDASH_DATA": str(data)}) as url, browser_page(1400, 900) as page:
        page.set_default_timeout(120_000)
        j = Journey(Driver(page, timeout_s=240), url, results, data, screens)
        try:
            start(j)
            curate(j)
            formats(j)
            run_id = train(j)
            playground(j, run_id)
            arena(j, run_id)
            eval_id = evaluate(j, run_id)
            xlsx(j, run_id, eval_id)
        except BaseException:
            full_screenshot(page, screens / "FAILED.png")   # what the page showed when a check failed
            raise
    # The app is stopped: its database can be opened. What the screens showed was stored.
    with duckdb.connect(str(results / "estudo.duckdb"), read_only=True) as db:
        assert db.execute("SELECT status FROM runs WHERE id = ?", [run_id]).fetchone() == ("succeeded",)
        assert db.execute("SELECT count(*) FROM generations WHERE source = 'playground'").fetchone()[0] == 2
        assert db.execute("SELECT count(*) FROM arena_votes").fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM curated_datasets WHERE name = ?", [DATASET]).fetchone()[0] == 1
    print(f"\njourney: {time.time() - began:.0f} s (training {j.timings.get('train_s', 0):.0f} s, "
          f"evaluation {j.timings.get('eval_s', 0):.0f} s); screenshots in {screens}")
