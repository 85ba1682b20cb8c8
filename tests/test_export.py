"""The xlsx round trip (write, read back with openpyxl: sheets, headers, values, charts, and no
planted secret anywhere in the file), the import of the seed study's real .ods sheet, re-import
of our own workbook, bad files, and the report/import commands."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from core.cli import main
from core.compare.xlsx import ImportSheetError, clean_cell, import_sheet, parse_seed_layout, write_report
from core.store import Store
from core.store.compare import (
    create_evaluation,
    get_evaluation,
    list_evaluations,
    save_answers,
    save_scores,
    upsert_model,
)

SEED_SHEET = Path(__file__).resolve().parent.parent / "dados" / "seed" / "fine_tuning_llama_gpt.ods"
PLANTED = "sk-planted-0123456789abcdefSECRET"
EVAL = "ev-export"


def _fill(store: Store) -> None:
    """A fine-tune and its base on 3 examples, a run whose config carries the key, a vote."""
    upsert_model(store, id="local:smollm2", kind="local-base", display_name="SmolLM2-135M-Instruct (bundled)",
                 base_model="smollm2", price_per_hour=0.1)
    upsert_model(store, id="local-ft:run1", kind="local-finetune", display_name="run1", base_model="smollm2",
                 adapter_path="/a", run_id="run1", price_per_hour=0.1)
    config = json.dumps({"api_key": PLANTED, "note": f"key was {PLANTED}", "lr": 2e-4})
    store.execute("INSERT INTO runs (id, backend, base_model, config_json, status, run_dir, wall_s, status_message) "
                  "VALUES ('run1', 'local', 'smollm2', ?, 'succeeded', '/r', 60, ?)", [config, f"Bearer {PLANTED}"])
    for step, loss in ((1, 2.4), (2, 2.2)):
        store.execute("INSERT INTO run_metrics (run_id, step, name, value) VALUES ('run1', ?, 'train_loss', ?)",
                      [step, loss])
    store.execute("INSERT INTO arena_votes (model_a, model_b, winner, prompt) VALUES ('local:smollm2', "
                  "'local-ft:run1', 'b', 'Dune')")
    examples = [(i, f"Title {i}", f"Reference {i} text.") for i in range(3)]
    create_evaluation(store, EVAL, "eval", "export test", json.dumps({"judge_api_key": PLANTED}), "succeeded",
                      examples, [
                          {"model_id": "local-ft:run1", "display_name": "run1", "kind": "local-finetune",
                           "finetuned": True, "base_model": "smollm2", "run_id": "run1"},
                          {"model_id": "local:smollm2", "display_name": "SmolLM2-135M-Instruct (bundled)",
                           "kind": "local-base", "base_model": "smollm2"}])
    answers, scores = [], []
    for model, prefix in (("local-ft:run1", "ft"), ("local:smollm2", "base")):
        for i in range(3):
            text = f"{prefix} answer {i}" + (f" leaking {PLANTED}" if i == 2 else "")
            answers.append({"eval_id": EVAL, "model_id": model, "variant": "default", "idx": i, "prompt": f"Title {i}",
                            "reference": f"Reference {i} text.", "answer": text, "total_s": 0.5, "cost_usd": 0.0001})
            scores.append((EVAL, model, "default", i, "semantic", 0.5 + (0.1 if prefix == "ft" else 0), None))
    save_answers(store, answers)
    save_scores(store, scores)


def _all_cell_text(path: Path) -> str:
    wb = load_workbook(path)
    return "\n".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None)


def test_xlsx_round_trip_without_secrets(store, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", PLANTED)
    _fill(store)
    path = write_report(store, tmp_path / "report.xlsx", EVAL)
    wb = load_workbook(path)
    assert {"summary", "SmolLM2_135M_Instruct", "leaderboard", "criteria", "flexibility", "scores", "answers", "runs",
            "loss_curves", "votes", "curation", "prices", "models"} <= set(wb.sheetnames)
    pair = wb["SmolLM2_135M_Instruct"]  # named like the seed's Llama_3_2
    rows = [[c.value for c in row] for row in pair.iter_rows()]
    assert rows[0] == ["Titulo", "Descrição do dataset", "Finetuned SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct"]
    assert rows[1] == ["Title 0", "Reference 0 text.", "ft answer 0", "base answer 0"]
    assert len(rows) == 4
    board = {c.value: i for i, c in enumerate(wb["leaderboard"][1])}
    first = [c.value for c in wb["leaderboard"][2]]
    assert first[board["model_id"]] == "local-ft:run1" and first[board["main"]] == pytest.approx(0.6)
    assert wb["leaderboard"]._charts and wb["loss_curves"]._charts  # native Excel charts
    assert wb["votes"].max_row == 2 and "local-ft:run1" in [c.value for c in wb["votes"][2]]
    # the planted key is nowhere: not in cells, not in the raw XML of the file
    assert PLANTED not in _all_cell_text(path)
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            assert PLANTED.encode() not in z.read(name), name
    runs_text = "\n".join(str(c.value) for row in wb["runs"].iter_rows() for c in row)
    assert '"api_key": "***"' in runs_text and "2e-4" in runs_text.replace("0.0002", "2e-4")


def test_seed_ods_imports(store) -> None:
    ids = import_sheet(store, SEED_SHEET)
    assert len(ids) == 2
    by_title = {get_evaluation(store, i)["title"]: i for i in ids}
    llama = by_title["fine_tuning_llama_gpt.ods · Llama_3_2"]
    gpt = by_title["fine_tuning_llama_gpt.ods · GPT4"]
    models = store.fetchall("SELECT model_id, finetuned, base_model FROM eval_models WHERE eval_id = ? ORDER BY position",
                            [llama])
    assert models == [("imported:Finetuned Llama 3.2", True, "Llama 3.2"), ("imported:Llama 3.2", False, "Llama 3.2")]
    assert store.fetchone("SELECT count(*) FROM eval_examples WHERE eval_id = ?", [llama])[0] == 7
    assert store.fetchone("SELECT count(*) FROM eval_examples WHERE eval_id = ?", [gpt])[0] == 4
    texts = [r[0] for r in store.fetchall("SELECT answer FROM eval_answers WHERE eval_id = ?", [gpt])]
    assert not any("ChatCompletionMessage" in t for t in texts)  # the seed pasted reprs: unwrapped
    assert any(t.startswith("Here are 30 reasons to love your country") for t in texts)
    refs = " ".join(r[0] for r in store.fetchall("SELECT reference FROM eval_examples WHERE eval_id = ?", [llama]))
    assert "\\u00a9" not in refs and "©" in refs
    scored = store.fetchone("SELECT count(*) FROM eval_scores WHERE eval_id = ? AND metric = 'semantic'", [llama])[0]
    assert scored == 14
    # importing again replaces, never duplicates
    assert import_sheet(store, SEED_SHEET) == ids
    assert store.fetchone("SELECT count(*) FROM eval_answers WHERE eval_id = ?", [llama])[0] == 14


def test_our_workbook_imports_back(store, tmp_path) -> None:
    _fill(store)
    path = write_report(store, tmp_path / "report.xlsx", EVAL)
    ids = import_sheet(store, path, score=False)
    assert len(ids) == 1  # only the pair sheet is in the seed layout
    answers = store.fetchall("SELECT model_id, answer FROM eval_answers WHERE eval_id = ? AND idx = 0 ORDER BY 1", ids)
    assert answers == [("imported:Finetuned SmolLM2-135M-Instruct", "ft answer 0"),
                       ("imported:SmolLM2-135M-Instruct", "base answer 0")]


def test_clean_cell_and_layout_detection() -> None:
    assert clean_cell("ChatCompletionMessage(content='it\\'s fine', refusal=None, role='assistant')\n") == "it's fine"
    assert clean_cell('ChatCompletionMessage(content="say \\"hi\\"\\nbye", refusal=None)') == 'say "hi"\nbye'
    assert clean_cell("copyright \\u00a9 reed") == "copyright © reed"
    assert clean_cell(None) == "" and clean_cell(float("nan")) == "" and clean_cell(3) == "3"
    rows = [["notes"], ["TÍTULO", "descricao do dataset", "A", None], ["t1", "r1", "a1", "x"], [None, None, None]]
    labels, body = parse_seed_layout(rows)
    assert labels == ["A"] and body == [("t1", "r1", ["a1"])]
    assert parse_seed_layout([["a", "b", "c"], [1, 2, 3]]) is None


def test_bad_files_are_one_sentence(store, tmp_path) -> None:
    with pytest.raises(ImportSheetError, match="does not exist"):
        import_sheet(store, tmp_path / "missing.xlsx")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ImportSheetError, match=".xlsx, .ods or .csv"):
        import_sheet(store, text)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ImportSheetError, match="could not be read"):
        import_sheet(store, broken)
    other = tmp_path / "other.xlsx"
    wb = Workbook()
    wb.active.append(["name", "value"])
    wb.save(other)
    with pytest.raises(ImportSheetError, match="Titulo"):
        import_sheet(store, other)
    assert list_evaluations(store) == []


def test_report_and_import_commands(tmp_path, capsys) -> None:
    assert main(["import", str(SEED_SHEET)]) == 0
    out = capsys.readouterr().out
    assert "imported: imp-" in out and "Finetuned Llama 3.2" in out
    target = tmp_path / "out.xlsx"
    assert main(["report", "--xlsx", str(target)]) == 0
    assert target.exists() and "workbook:" in capsys.readouterr().out
    assert main(["import", str(tmp_path / "nope.ods")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert main(["report", "--xlsx", str(tmp_path / "out.csv")]) == 2
    assert main(["report", "--eval", "ev-nothing"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_two_fine_tunes_of_one_base_get_their_own_named_sheets(store, tmp_path) -> None:
    models = [{"model_id": f"local-ft:{r}", "display_name": r, "kind": "local-finetune", "finetuned": True,
               "base_model": "smollm2", "run_id": r} for r in ("runA", "runB")]
    models.append({"model_id": "local:smollm2", "display_name": "SmolLM2", "kind": "local-base", "base_model": "smollm2"})
    create_evaluation(store, "ev-two", "eval", "two", "{}", "succeeded", [(0, "T", "R")], models)
    save_answers(store, [{"eval_id": "ev-two", "model_id": m["model_id"], "variant": "default", "idx": 0,
                          "answer": f"by {m['display_name']}", "reference": "R"} for m in models])
    wb = load_workbook(write_report(store, tmp_path / "two.xlsx", "ev-two"))
    headers = {name: [c.value for c in wb[name][1]] for name in ("SmolLM2_runA", "SmolLM2_runB")}
    assert headers["SmolLM2_runA"][2:] == ["Finetuned SmolLM2 (runA)", "SmolLM2"]
    assert [c.value for c in wb["SmolLM2_runB"][2]] == ["T", "R", "by runB", "by SmolLM2"]
