"""Which metric to trust: agreement of each metric and of the pairwise judge with human votes on
constructed cases whose truth is known, Kendall τ, the judge's position bias and its verdict cache,
human ratings imported from sheets (xlsx, csv, a bad cell), the CLI, the xlsx sheet and page 5's tab.

Real parts: a DuckDB file or in-memory store, the real metrics (MiniLM included), a real tiny model as
the judge through the CLI; the judge is faked only where its answers must be known ("always A")."""
from __future__ import annotations

import csv
import re
import time
from pathlib import Path

import pytest
from conftest import run_page

from core.compare.agreement import MIN_PAIRS, kendall_tau, metric_agreement
from core.compare.arena import record_vote
from core.compare.pairwise_judge import JudgeFailedError, parse_verdict
from core.store.compare import insert_generation

ROOT = Path(__file__).resolve().parent.parent


def _vote(store, model_x: str, model_y: str, answer_x: str, answer_y: str, winner: str, reference: str | None,
          title: str) -> int:
    ga = insert_generation(store, source="arena", model_id=model_x, prompt=title, settings_json="{}", answer=answer_x,
                           reference=reference)
    gb = insert_generation(store, source="arena", model_id=model_y, prompt=title, settings_json="{}", answer=answer_y,
                           reference=reference)
    return record_vote(store, model_x, model_y, winner, title, generation_a=ga, generation_b=gb)


def _votes(store, rows: list[dict], n: int, human_picks_good: bool = True, start: int = 0) -> None:
    """n votes on test examples: one answer is the reference itself, the other another book's
    description; the good one alternates sides, so a position would not explain the result."""
    for k in range(start, start + n):
        row, other = rows[k], rows[k + 40]
        good_left = k % 2 == 0
        left, right = (row["content"], other["content"]) if good_left else (other["content"], row["content"])
        winner = ("a" if good_left else "b") if human_picks_good else ("b" if good_left else "a")
        _vote(store, "good" if good_left else "bad", "bad" if good_left else "good", left, right, winner,
              row["content"], row["title"])


def _row(report, metric: str):
    found = report.table[report.table["metric"] == metric]
    assert len(found) == 1, report.table
    return found.iloc[0]


# -- agreement on constructed votes ----------------------------------------------------------------
def test_a_metric_that_always_agrees_scores_100_and_always_disagrees_0(store, seed_rows) -> None:
    _votes(store, seed_rows["test"], 12)
    report = metric_agreement(store, n_bootstrap=200)
    for metric in ("rougeL", "chrf", "bleu", "semantic"):
        row = _row(report, metric)
        assert (row["n"], row["agreement"], row["low"], row["high"]) == (12, 1.0, 1.0, 1.0), metric
    assert report.pairs == 12 and report.votes == 12 and report.best in ("rougeL", "chrf", "bleu", "semantic")

    from core.store import Store
    with Store(":memory:") as other:
        _votes(other, seed_rows["test"], 12, human_picks_good=False)
        flipped = metric_agreement(other, n_bootstrap=200)
    assert _row(flipped, "rougeL")["agreement"] == 0.0 and _row(flipped, "semantic")["agreement"] == 0.0


def test_metric_ties_count_half_and_human_ties_are_left_out(store, seed_rows) -> None:
    rows = seed_rows["test"]
    for k in range(10):  # the same text from two models: every metric ties
        _vote(store, "m1", "m2", rows[k]["content"], rows[k]["content"], "a", rows[k]["content"], rows[k]["title"])
    for k, winner in enumerate(("tie", "tie", "both_bad")):
        _vote(store, "m1", "m2", rows[k]["content"], "x", winner, rows[k]["content"], rows[k]["title"])
    report = metric_agreement(store, n_bootstrap=100)
    assert report.pairs == 10 and report.ties == 3
    assert {n.key for n in report.notes} >= {"ties"}
    for metric in ("rougeL", "chrf", "bleu", "semantic", "length_ratio", "repetition"):
        assert _row(report, metric)["agreement"] == 0.5 and _row(report, metric)["n"] == 10


def test_the_bootstrap_interval_contains_the_point(store, seed_rows) -> None:
    _votes(store, seed_rows["test"], 7)
    _votes(store, seed_rows["test"], 5, human_picks_good=False, start=7)
    row = _row(metric_agreement(store, n_bootstrap=500), "rougeL")
    assert row["n"] == 12 and row["agreement"] == pytest.approx(7 / 12)
    assert row["low"] <= row["agreement"] <= row["high"] and row["low"] < row["high"]
    assert row["low"] >= 0 and row["high"] <= 1


def test_too_few_votes_name_no_winner(store, seed_rows) -> None:
    _votes(store, seed_rows["test"], 5)
    report = metric_agreement(store, n_bootstrap=50)
    assert report.best is None and report.verdict.key == "too_few"
    assert report.verdict.text == f"Too few votes to tell which metric agrees best (n=5, need {MIN_PAIRS})."


def test_votes_without_a_reference_count_for_the_judge_only(store, seed_rows) -> None:
    _vote(store, "m1", "m2", "an answer", "another", "a", None, "typed prompt")
    report = metric_agreement(store, judge_model="local:smollm2", ask=lambda p: [("WINNER: A", None)] * len(p))
    assert _row(report, "rougeL")["n"] == 0 and _row(report, "judge")["n"] == 1
    assert "no_reference" in {n.key for n in report.notes}


def test_no_votes_at_all(store) -> None:
    report = metric_agreement(store)
    assert report.pairs == 0 and report.best is None and (report.table["n"] == 0).all()


# -- Kendall τ -------------------------------------------------------------------------------------
def test_kendall_tau_known_values() -> None:
    human = {"a": 3.0, "b": 2.0, "c": 1.0, "d": 0.5}
    assert kendall_tau(human, dict(human)) == (1.0, 4)
    assert kendall_tau(human, {"a": 1, "b": 2, "c": 3, "d": 4}) == (-1.0, 4)
    tau, n = kendall_tau(human, {"a": 3, "b": 1, "c": 2, "d": 0})  # one swapped pair of six
    assert n == 4 and tau == pytest.approx(4 / 6)
    assert kendall_tau({"a": 1, "b": 2}, {"a": 1, "b": 2}) == (None, 2)          # fewer than 3 models
    assert kendall_tau(human, {"a": 1, "b": 1, "c": 1, "d": 1}) == (None, 4)     # no variation


def test_kendall_tau_of_a_metric_that_ranks_the_models_as_people_do(store, seed_rows) -> None:
    rows = seed_rows["test"]
    for k in range(12):
        ref = rows[k]["content"]
        answers = {"best": ref, "middle": " ".join(ref.split()[: max(3, len(ref.split()) // 2)]),
                   "worst": rows[k + 40]["content"]}
        x, y = [("best", "middle"), ("middle", "worst"), ("best", "worst")][k % 3]
        _vote(store, x, y, answers[x], answers[y], "a", ref, rows[k]["title"])
    row = _row(metric_agreement(store, n_bootstrap=50), "rougeL")
    assert row["n_models"] == 3 and row["kendall_tau"] == pytest.approx(1.0)


# -- the pairwise judge ------------------------------------------------------------------------------
def test_position_bias_of_a_judge_that_always_says_a(store, seed_rows) -> None:
    _votes(store, seed_rows["test"], 12)
    report = metric_agreement(store, judge_model="local:smollm2", ask=lambda p: [("WINNER: A", None)] * len(p))
    judge = _row(report, "judge")
    assert judge["position_bias"] == 1.0 and judge["first_wins"] == 1.0
    assert judge["agreement"] == 0.5 and judge["n"] == 12  # every verdict inconsistent: a tie each


def _fair_judge(calls: list[int]):
    """Picks the answer that is the reference itself (a consistent, correct judge)."""
    def ask(prompts: list[str]) -> list[tuple[str | None, str | None]]:
        calls.append(len(prompts))
        out = []
        for prompt in prompts:
            reference = prompt.split("is:\n", 1)[1].split("\n\nTITLE:", 1)[0]
            first = prompt.split("ANSWER A: ", 1)[1].split("\n\nANSWER B: ", 1)[0]
            out.append(("The first is right. WINNER: A" if first == reference else "WINNER: B", None))
        return out
    return ask


def test_a_consistent_judge_agrees_and_its_verdicts_are_cached(store, seed_rows) -> None:
    _votes(store, seed_rows["test"], 12)
    calls: list[int] = []
    report = metric_agreement(store, judge_model="local:smollm2", ask=_fair_judge(calls))
    judge = _row(report, "judge")
    assert (judge["agreement"], judge["position_bias"], judge["first_wins"]) == (1.0, 0.0, 0.5)
    assert sum(calls) == 24  # both orders of 12 pairs
    calls.clear()
    again = metric_agreement(store, judge_model="local:smollm2", ask=_fair_judge(calls))
    assert calls == [] and _row(again, "judge")["agreement"] == 1.0

    def refuse(prompts):
        raise AssertionError("cached_only must not ask")
    cached = metric_agreement(store, judge_model="local:smollm2", cached_only=True, ask=refuse)
    assert _row(cached, "judge")["n"] == 12


def test_a_judge_that_always_fails_is_one_sentence_and_nothing_is_cached(store, seed_rows) -> None:
    from core.store.ratings import judges_with_verdicts

    _votes(store, seed_rows["test"], 3)
    with pytest.raises(JudgeFailedError, match="answered none of 6 questions: no key"):
        metric_agreement(store, judge_model="local:smollm2", ask=lambda p: [(None, "no key")] * len(p))
    assert judges_with_verdicts(store) == []


@pytest.mark.parametrize(("text", "verdict"), [
    ("WINNER: A", "a"), ("winner: b", "b"), ("**Winner:** TIE", "tie"), ("B", "b"), ("a.", "a"),
    ("Answer B is better. WINNER: A", "a"), ("Both are equally good.", "tie"), ("I prefer B", "b"),
    ("A and B both fail", None), ("", None), ("No idea", None), ("Vencedor: empate", "tie"),
    ("The answer is: A", "a"), ("A Guidebook to Learning: For a Lifetime of Wisdom", None), ("(B)", "b"),
])
def test_parse_verdict(text: str, verdict: str | None) -> None:
    assert parse_verdict(text) == verdict


# -- ratings imported from sheets -----------------------------------------------------------------------
HEADER = ["Titulo", "Descrição do dataset", "Finetuned Llama", "Llama"]


def _sheet_rows(seed_rows, n: int = 12) -> list[list]:
    rows = seed_rows["test"]
    body = []
    for k in range(n):
        good, bad = rows[k]["content"], rows[k + 40]["content"]
        ratings = (3, 3) if k in (0, 1) else (None, 4) if k == 2 else (5, 2)
        body.append([rows[k]["title"], good, good, bad, *ratings])
    return body


def test_ratings_import_from_an_xlsx_become_human_pairs(store, seed_rows, tmp_path) -> None:
    from openpyxl import Workbook

    from core.compare.xlsx import import_sheet
    from core.store.compare import eval_models
    from core.store.ratings import count_ratings

    wb = Workbook()
    wb.active.append([*HEADER, "Nota Finetuned Llama", "nota llama"])
    for row in _sheet_rows(seed_rows):
        wb.active.append(row)
    wb.save(tmp_path / "rated.xlsx")
    (eval_id,) = import_sheet(store, tmp_path / "rated.xlsx")
    assert [m["display_name"] for m in eval_models(store, eval_id)] == ["Finetuned Llama", "Llama"]
    assert count_ratings(store) == 23  # 12 rows x 2, one cell empty
    report = metric_agreement(store, n_bootstrap=100)
    assert (report.rating_pairs, report.ties, report.pairs) == (11, 2, 9)
    assert _row(report, "rougeL")["agreement"] == 1.0
    import_sheet(store, tmp_path / "rated.xlsx")  # importing again replaces, never doubles
    assert count_ratings(store) == 23


def test_ratings_import_from_a_csv_with_rating_and_score_columns(store, seed_rows, tmp_path) -> None:
    from core.compare.xlsx import import_sheet

    path = tmp_path / "rated.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*HEADER, "Rating Finetuned Llama", "SCORE Llama"])
        for row in _sheet_rows(seed_rows):
            writer.writerow([*row[:4], *("" if v is None else str(v).replace("5", "4,5") for v in row[4:])])
    import_sheet(store, path)
    report = metric_agreement(store, n_bootstrap=100)
    assert (report.rating_pairs, report.pairs) == (11, 9) and _row(report, "chrf")["agreement"] == 1.0


def test_a_text_in_a_rating_column_is_one_sentence_and_stores_nothing(store, seed_rows, tmp_path) -> None:
    from openpyxl import Workbook

    from core.compare.human_ratings import RatingImportError
    from core.compare.xlsx import import_sheet
    from core.store.compare import list_evaluations

    wb = Workbook()
    wb.active.title = "notas"
    wb.active.append([*HEADER, "Nota Finetuned Llama", "Nota Llama"])
    for k, row in enumerate(_sheet_rows(seed_rows, 5)):
        wb.active.append(row[:5] + (["ótimo"] if k == 2 else row[5:]))
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(RatingImportError) as caught:
        import_sheet(store, tmp_path / "bad.xlsx")
    assert str(caught.value) == ("bad.xlsx, sheet 'notas', row 4, column 'Nota Llama' (F): the rating 'ótimo' is "
                                 "not a number.")
    assert list_evaluations(store) == []

    wb = Workbook()
    wb.active.append([*HEADER, "Rating GPT"])
    wb.active.append(["t", "r", "a", "b", 3])
    wb.save(tmp_path / "unknown.xlsx")
    with pytest.raises(RatingImportError, match="'Rating GPT' \\(E\\) names no answer column"):
        import_sheet(store, tmp_path / "unknown.xlsx")


def test_a_sheet_without_rating_columns_imports_as_before(store, seed_rows, tmp_path) -> None:
    from openpyxl import Workbook

    from core.compare.xlsx import import_sheet
    from core.store.compare import eval_models
    from core.store.ratings import count_ratings

    wb = Workbook()
    wb.active.append(HEADER)
    for row in _sheet_rows(seed_rows, 3):
        wb.active.append(row[:4])
    wb.save(tmp_path / "plain.xlsx")
    (eval_id,) = import_sheet(store, tmp_path / "plain.xlsx", score=False)
    assert len(eval_models(store, eval_id)) == 2 and count_ratings(store) == 0


# -- CLI, xlsx -----------------------------------------------------------------------------------------
def _file_store_with_votes(seed_rows, n: int = 12) -> None:
    from core.store import Store

    with Store() as store:
        _votes(store, seed_rows["test"], n)


def test_cli_prints_the_table_and_names_the_best_metric(seed_rows, capsys, tmp_path) -> None:
    from openpyxl import load_workbook

    from core.cli import main

    _file_store_with_votes(seed_rows)
    assert main(["agreement", "--bootstrap", "100", "--xlsx", str(tmp_path / "agree.xlsx")]) == 0
    out = capsys.readouterr().out
    assert "human pairs with a winner: 12 (votes: 12, rating pairs: 0, ties or both bad: 0)" in out
    assert "agreement % [95% interval]" in out and "Kendall τ" in out and "position bias" in out
    assert re.search(r"^rougeL +12  100% \[100%, 100%\] +— \(2\) +—$", out, re.M), out
    assert "agrees best with the people on this task" in out.splitlines()[-2]
    ws = load_workbook(tmp_path / "agree.xlsx")["agreement"]
    assert ws["A1"].value == "metric" and ws["C2"].value == 100.0

    assert main(["agreement", "--judge", "nope:model"]) == 2
    assert "error: The model 'nope:model' is not registered" in capsys.readouterr().err
    assert main(["agreement", "--bootstrap", "0"]) == 2
    assert capsys.readouterr().err.startswith("error: --bootstrap must be")


def test_cli_judge_with_a_real_tiny_model_is_asked_once(seed_rows, tiny_model_dir, capsys, monkeypatch) -> None:
    from core.cli import main
    from core.models.registry import add_local_model
    from core.store import Store
    from core.store.ratings import judges_with_verdicts

    _file_store_with_votes(seed_rows, 4)
    with Store() as store:
        judge = add_local_model(store, str(tiny_model_dir), display_name="tiny")
    assert main(["agreement", "--judge", judge, "--bootstrap", "50"]) == 0
    out = capsys.readouterr().out
    assert f"judge ({judge})" in out
    with Store() as store:
        asked = store.fetchone("SELECT count(*) FROM judge_verdicts WHERE judge_model = ?", [judge])[0]
    assert asked == 8  # 4 pairs, both orders

    import core.models.generate as generate

    def refuse(*args, **kwargs):
        raise AssertionError("a second run must ask nothing")
    monkeypatch.setattr(generate, "generate_batch", refuse)
    assert main(["agreement", "--judge", judge, "--bootstrap", "50"]) == 0
    with Store() as store:
        assert store.fetchone("SELECT count(*) FROM judge_verdicts")[0] == 8
        assert judges_with_verdicts(store) == [(judge, 8)]


def test_the_workbook_has_the_agreement_sheet_and_never_asks_a_judge(store, seed_rows, tmp_path, monkeypatch) -> None:
    from openpyxl import load_workbook

    import core.models.generate as generate
    from core.compare.xlsx import write_report

    write_report(store, tmp_path / "empty.xlsx")
    assert "agreement" not in load_workbook(tmp_path / "empty.xlsx").sheetnames  # no votes: no sheet

    _votes(store, seed_rows["test"], 12)
    metric_agreement(store, judge_model="local:smollm2", ask=_fair_judge([]))  # verdicts cached

    def refuse(*args, **kwargs):
        raise AssertionError("writing a workbook must not call a model")
    monkeypatch.setattr(generate, "generate_batch", refuse)
    ws = load_workbook(write_report(store, tmp_path / "report.xlsx"))["agreement"]
    cells = {row[0]: row[1:] for row in ws.iter_rows(values_only=True) if row and row[0]}
    assert cells["judge (local:smollm2)"][:2] == (12, 100.0)
    assert cells["rougeL"][:2] == (12, 100.0)
    assert cells["best"][0] in ("rougeL", "chrf", "bleu", "semantic", "judge")
    assert "agrees best" in cells["verdict"][0]


# -- page 5's tab -------------------------------------------------------------------------------------
def test_the_trust_tab_shows_the_table_the_best_metric_and_asks_a_judge(seed_rows, tiny_model_dir) -> None:
    from streamlit.testing.v1 import AppTest

    from core.models.registry import add_local_model, ensure_default_models
    from core.store import Store
    from ui.resultados_confianca import _judge_tasks

    with Store() as store:
        ensure_default_models(store)
        judge = add_local_model(store, str(tiny_model_dir), display_name="tiny judge")
        _votes(store, seed_rows["test"], 12)

    def app(lang: str) -> AppTest:
        return run_page("5_resultados.py", lang)

    at = app("en")
    assert not at.exception
    verdicts = [e.value for e in [*at.success, *at.warning] if "agrees best" in e.value]
    assert verdicts and "of 12 pairs" in verdicts[0]
    table = next(d.value for d in at.dataframe if "kendall_tau" in d.value.columns)
    assert "ROUGE-L" in list(table["metric"]) and (table["n"] == "12").all()
    assert any("ties" in c.value and "page 4" in c.value for c in at.caption)

    at.selectbox(key="cf_judge").set_value(judge).run()
    at.button(key="cf_ask").click().run()
    deadline = time.time() + 120
    while _judge_tasks().running() and time.time() < deadline:
        time.sleep(0.5)
    at.run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "kendall_tau" in d.value.columns)
    assert any("tiny judge" in str(m) or judge in str(m) for m in table["metric"])
    with Store() as store:
        assert store.fetchone("SELECT count(*) FROM judge_verdicts")[0] == 24

    pt = app("pt")
    assert not pt.exception
    assert any("concorda com as pessoas" in e.value for e in [*pt.success, *pt.warning])
    assert any("Como contam os empates" in c.value for c in pt.caption)
