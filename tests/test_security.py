"""Security checks: no shell anywhere (by the syntax tree, not a text search), uploaded file names
that cannot leave their folder (page 1's save_upload and page 5's sheet import, with names like
'../../x.json', absolute paths, NUL bytes and 5,000-character names), and model answers that render
as text, never as HTML: no page hands model text to unsafe_allow_html / st.html / components.html,
and in the real browser a generation holding <script> and <img onerror> stays text on the
playground and the results page (``slow``: it also types an OpenAI key into the playground's
password field and checks it is stored nowhere, see tests/test_secrets.py).

    .venv/bin/python -m pytest -q tests/test_security.py
"""
from __future__ import annotations

import ast
import json
import os
import time
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, fake_openai_fixture  # noqa: F401 - the fixture
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PY = sorted([*ROOT.glob("*.py"), *(p for d in ("core", "paginas", "ui", "bench", "scripts", "tests", "locales")
                                           for p in (ROOT / d).rglob("*.py"))])
SHELL_CALLS = {("os", "system"), ("os", "popen"), ("subprocess", "getoutput"), ("subprocess", "getstatusoutput"),
               ("asyncio", "create_subprocess_shell")}
XSS = "<img src=x onerror=window.__pwned=1> <script>window.__pwned=2</script> <b>bold</b>"


# -- no shell -------------------------------------------------------------------------------------------
def test_no_shell_anywhere_in_the_project() -> None:
    """Every call with a ``shell=`` keyword that is not literally False, and every shell-running
    function (os.system, os.popen, subprocess.getoutput, ...), in all of the project's Python."""
    found = []
    for path in PROJECT_PY:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for kw in node.keywords:
                if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} shell={ast.unparse(kw.value)}")
                if kw.arg is None and "shell" in ast.unparse(kw.value):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} **{ast.unparse(kw.value)}")
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
                    (func.value.id, func.attr) in SHELL_CALLS:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {func.value.id}.{func.attr}()")
    assert not found, "\n".join(found)
    assert len(PROJECT_PY) > 50  # the scan really saw the project


# -- upload names ----------------------------------------------------------------------------------------
HOSTILE_NAMES = ["../../x.json", "../../../../../../tmp/escape.json", "/etc/passwd", "/tmp/abs.jsonl",
                 "a\x00b.json", "\x00", "x" * 5000 + ".json", "..", ".", "", "C:\\Windows\\win.ini",
                 "..\\..\\x.json", "sub/dir/x.jsonl", ".hidden.json", "~/.ssh/authorized_keys", "ñ ü 名字.json",
                 "new\nline.json", "-rf.json"]


NUL_REFUSED = "Filename cannot contain null bytes."  # streamlit/elements/lib/file_uploader_utils.py


def _files_under(folder: Path) -> set[str]:
    return {str(p) for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_upload_names_cannot_leave_the_uploads_folder(name: str, tmp_path: Path, isolated_results: Path) -> None:
    from core.data.datasets import save_upload, uploads_dir

    outside = _files_under(tmp_path)
    saved = save_upload(name, b'{"title": "t", "content": "c"}\n')
    folder = uploads_dir().resolve()
    assert saved.resolve().parent.parent == folder and saved.is_file()  # uploads/<content hash>/<name>
    assert "\x00" not in str(saved) and len(saved.name.encode()) <= 255 and not saved.name.startswith(".")
    assert _files_under(tmp_path) - outside == {str(saved)}  # the only new file anywhere
    if name.endswith((".json", ".jsonl")) and len(name) > 200:
        assert saved.suffix == Path(name).suffix  # a long name keeps its extension (CSV vs Parquet)
    assert not Path("/tmp/escape.json").exists() and not Path("/tmp/abs.jsonl").exists()


def _release_page_store() -> None:
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.mark.parametrize("name", ["../../x.json", "/tmp/abs.jsonl", "a\x00b.json", "x" * 5000 + ".jsonl"],
                         ids=["dotdot", "absolute", "nul", "long"])
def test_page1_upload_with_a_hostile_name(name: str, tmp_path: Path, isolated_results: Path, monkeypatch) -> None:
    monkeypatch.setenv("FTDASH_DATA", str(tmp_path / "dados"))
    outside = _files_under(tmp_path)
    _release_page_store()
    at = AppTest.from_file(str(ROOT / "paginas" / "1_dados.py"), default_timeout=120)
    at.session_state["lang"] = "en"
    at.session_state["dados_source__en"] = "upload"
    at.run()
    rows = "".join(json.dumps({"title": f"Book number {i} by an author", "content": "copyright " * 50}) + "\n"
                   for i in range(30))
    at.file_uploader(key="dados_upload").set_value((name, rows.encode(), "application/json")).run()
    if "\x00" in name:  # Streamlit itself refuses the name before the page sees it: nothing is written
        assert [e.message for e in at.exception] == [NUL_REFUSED]
        assert _files_under(tmp_path) - outside <= {str(p) for p in tmp_path.rglob("*.duckdb*")}
        return
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    new = _files_under(tmp_path) - outside
    uploads = (isolated_results / "uploads").resolve()
    assert new and all(Path(p).resolve().parent.parent == uploads for p in new if "/uploads/" in p), new
    assert all("/uploads/" in p or p.endswith((".duckdb", ".wal", ".duckdb.app.json")) or "/cache/" in p for p in new), new
    _release_page_store()


@pytest.mark.parametrize("name", ["../../x.csv", "/tmp/abs.csv", "a\x00b.csv", "x" * 5000 + ".csv"],
                         ids=["dotdot", "absolute", "nul", "long"])
def test_page5_import_with_a_hostile_name(name: str, tmp_path: Path, isolated_results: Path) -> None:
    """The sheet is written to a temporary folder under a safe name, imported, and the folder removed."""
    import tempfile

    sheet = "Titulo,Descrição do dataset,Finetuned gpt-4o-mini,gpt-4o-mini\nA book,The reference,An answer,Another\n"
    before = set(Path(tempfile.gettempdir()).glob("ftdash-import-*"))
    _release_page_store()
    at = AppTest.from_file(str(ROOT / "paginas" / "5_resultados.py"), default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    at.file_uploader(key="rs_upload").set_value((name, sheet.encode(), "text/csv")).run()
    if "\x00" in name:  # refused by Streamlit itself (see above)
        assert [e.message for e in at.exception] == [NUL_REFUSED]
        assert set(Path(tempfile.gettempdir()).glob("ftdash-import-*")) == before
        return
    at.button(key="rs_import").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert any("Imported 1 sheet" in s.value for s in at.success)
    assert not Path("/tmp/abs.csv").exists() and not (tmp_path.parent / "x.csv").exists()
    assert set(Path(tempfile.gettempdir()).glob("ftdash-import-*")) == before  # nothing left behind
    _release_page_store()


# -- model text is text ------------------------------------------------------------------------------------
UNSAFE = ("unsafe_allow_html", "st.html", "components.html", "components.v1.html", "_repr_html_")


def test_no_page_can_render_html() -> None:
    """The pages, the shared UI code and the app never turn on HTML rendering at all (so no model
    text can reach it); model answers are drawn with st.text, st.code or dataframes."""
    offenders = []
    for path in [ROOT / "app.py", *sorted((ROOT / "paginas").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            text = ast.unparse(node) if isinstance(node, ast.Call) else ""
            if isinstance(node, ast.Call) and any(u in ast.unparse(node.func) for u in UNSAFE):
                offenders.append(f"{path.name}:{node.lineno} {text[:80]}")
            if isinstance(node, ast.keyword) and node.arg == "unsafe_allow_html":
                offenders.append(f"{path.name}: unsafe_allow_html={ast.unparse(node.value)}")
    assert not offenders, offenders


@pytest.mark.slow
def test_answers_render_as_text_in_the_browser_and_a_typed_key_is_stored_nowhere(
        fake_openai: FakeOpenAI, tmp_path: Path, isolated_results: Path, monkeypatch) -> None:
    """The real app and browser: the playground with two OpenAI models (the fake echoes the prompt,
    so the answers hold <script> and <img onerror>) and the key typed into the password field; then
    the results page showing an imported sheet whose answers hold the same. No element is made
    from model text, no script runs, the text is visible as text; the typed key is in no file."""
    from test_secrets import find_secret

    from core.compare.xlsx import import_sheet
    from core.models.registry import ensure_default_models
    from core.store import Store
    from tests.browser.harness import browser_page, page_errors, running_app, wait_idle

    if not Path("/usr/bin/chromium").exists():
        pytest.skip("no chromium: install Debian's chromium (scripts/install.sh)")
    typed_key = "sk-typed-in-the-page-" + os.urandom(8).hex() + "-QZXW"
    fake_openai.api_key = typed_key
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    sheet = tmp_path / "xss.csv"
    sheet.write_text(f"Titulo,Descrição do dataset,Finetuned gpt-4o-mini,gpt-4o-mini\nA {XSS},ref {XSS},{XSS},"
                     f"plain answer\n", encoding="utf-8")
    with Store() as store:
        ensure_default_models(store)
        import_sheet(store, sheet, score=False)
    env = {"OPENAI_BASE_URL": fake_openai.url, "OPENAI_API_KEY": ""}
    with running_app(isolated_results, extra_env=env) as url, browser_page() as page:
        page.goto(url + "/playground")
        wait_idle(page, 120)
        page.locator(".st-key-pg_prompt textarea").fill(XSS)
        page.keyboard.press("Control+Enter")
        wait_idle(page)
        models = page.locator(".st-key-pg_models input")
        for name in ("gpt-4o-mini-2024-07-18", "gpt-4.1-mini-2025-04-14"):
            models.click()
            models.fill(name)
            page.keyboard.press("Enter")
            wait_idle(page)
        page.keyboard.press("Escape")
        page.locator(".st-key-pg_api_key input").fill(typed_key)
        page.keyboard.press("Enter")
        wait_idle(page)
        page.locator(".st-key-pg_generate button").click()
        deadline = time.time() + 180
        while time.time() < deadline and page.get_by_text("gpt-4.1-mini-2025-04-14 says:").count() == 0:
            time.sleep(0.5)
        wait_idle(page, 180)
        assert page.get_by_text("gpt-4o-mini-2024-07-18 says:").count() >= 1, "no OpenAI answer was drawn"
        _assert_text_not_html(page)
        assert not page_errors(page)

        page.goto(url + "/resultados")
        wait_idle(page, 120)
        _click_when_ready(page.get_by_role("tab").nth(3))  # the per-example tab: the answers side by side
        wait_idle(page)
        assert page.get_by_text("onerror=window.__pwned=1").count() >= 1, "the answer is not shown as text"
        _assert_text_not_html(page)
        assert not page_errors(page)
    assert find_secret(typed_key, isolated_results) == []


def _click_when_ready(locator: object, timeout_s: float = 90) -> None:
    """Click once the element takes clicks (a page still drawing its charts keeps it inert a while)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    deadline = time.time() + timeout_s
    while True:
        try:
            locator.click(timeout=5000)
            return
        except PlaywrightTimeout:
            if time.time() > deadline:
                raise


def _assert_text_not_html(page: object) -> None:
    assert page.evaluate("() => window.__pwned") is None, "model text ran as script"
    assert page.locator("img[src='x']").count() == 0, "model text became an <img>"
    assert page.locator("script:has-text('__pwned')").count() == 0, "model text became a <script>"
    assert page.locator("b:text-is('bold')").count() == 0, "model text became a <b>"
    assert page.get_by_text("onerror=window.__pwned=1").count() >= 1
