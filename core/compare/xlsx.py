"""The xlsx workbook of a comparison, and the import of old comparison sheets.

``write_report`` writes (openpyxl, to a temporary name, then renamed):
  one sheet per model pair in the seed study's layout: ``Titulo | Descrição do dataset |
  Finetuned <model> | <model>`` (a fine-tune beside its base; any two models otherwise),
  leaderboard (with a native bar chart), criteria, flexibility, scores (per example, per metric),
  answers, runs (with a native line chart of the loss curves), votes, curation, prices, models, and
  agreement (which metric agrees with the human votes: core/compare/agreement.py) when there are votes.
  Charts are openpyxl's own (Excel draws them); plotly → PNG would need kaleido and a browser.
  Nothing secret lands in it: JSON configs are masked with ``mask_secrets``, and every cell is
  scrubbed of the values of secret-looking environment variables and of ``sk-...`` keys.

``import_sheet`` reads a workbook in the seed layout (xlsx, or ods via pandas' odf engine, or
csv): each matching sheet becomes an evaluation (source ``import``) whose answers are scored like
new ones, so old comparisons sit beside new ones on page 5. The seed's cells that hold
``ChatCompletionMessage(content='...')`` reprs are unwrapped to the text.

    python -m core report --xlsx resultados/comparacao.xlsx
    python -m core import dados/seed/fine_tuning_llama_gpt.ods
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from core.config import mask_secrets
from core.errors import UserFacingError
from core.store import compare as db

if TYPE_CHECKING:
    from core.store import Store

TITLE_HEADER, REFERENCE_HEADER = "Titulo", "Descrição do dataset"
_SECRET_ENV = re.compile(r"(api[_-]?key|secret|token|password|authorization)", re.I)
_KEY_LIKE = re.compile(r"\b(sk-[A-Za-z0-9_\-]{12,}|Bearer\s+[A-Za-z0-9._\-]{12,})")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_MAX_CELL = 32000  # Excel's limit is 32,767 characters per cell
_JSON_COLUMNS = ("config_json", "settings_json", "funnel_json", "prompt_template_json")


class ExportError(UserFacingError):
    """The workbook cannot be written (nothing to export, bad path)."""


class ImportSheetError(UserFacingError):
    """The file is not a comparison sheet we can read."""


MAX_SHEET_BYTES = 256 << 20  # the seed's sheet is ~50 KB; our own workbooks a few MB


# -- secrets -----------------------------------------------------------------------------------------
def _secret_values() -> list[str]:
    """Values of secret-looking environment variables (long enough to be real secrets)."""
    return sorted({v for k, v in os.environ.items() if _SECRET_ENV.search(k) and len(v) >= 8}, key=len, reverse=True)


def scrub(value: Any, secrets: list[str] | None = None) -> Any:
    """A cell value safe to write: secrets replaced, JSON configs masked, control characters dropped."""
    if not isinstance(value, str):
        return value
    for secret in secrets if secrets is not None else _secret_values():
        value = value.replace(secret, "***")
    value = _KEY_LIKE.sub("***", value)
    value = _ILLEGAL.sub("", value)
    return value if len(value) <= _MAX_CELL else value[:_MAX_CELL] + "…"


def _mask_json_text(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.dumps(mask_secrets(json.loads(text)), ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return text


# -- writing -----------------------------------------------------------------------------------------
def _sheet_name(wanted: str, taken: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\']", "_", wanted).strip() or "sheet"
    name = name[:31]
    base, n = name, 2
    while name.lower() in taken:
        suffix = f"~{n}"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def _write_frame(wb: Any, name: str, frame: pd.DataFrame, taken: set[str], secrets: list[str]) -> Any:
    from openpyxl.styles import Alignment, Font

    ws = wb.create_sheet(_sheet_name(name, taken))
    frame = frame.copy()
    for column in frame.columns:
        if column in _JSON_COLUMNS:
            frame[column] = frame[column].map(_mask_json_text)
    ws.append([str(c) for c in frame.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in frame.itertuples(index=False):
        ws.append([_cell(v, secrets) for v in row])
    for idx, column in enumerate(frame.columns, start=1):
        longest = max([len(str(column))] + [len(str(v)) for v in frame[column].head(50).tolist()])
        ws.column_dimensions[ws.cell(1, idx).column_letter].width = min(60, max(10, longest + 2))
    if len(frame) and any(not pd.api.types.is_numeric_dtype(frame[c]) and frame[c].astype(str).str.len().max() > 60
                          for c in frame.columns):
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    return ws


def _cell(value: Any, secrets: list[str]) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            return value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, (int, float, bool, datetime)):
        return value
    return scrub(str(value), secrets)


def _pair_sheets(store: Store, eval_id: str) -> list[tuple[str, pd.DataFrame]]:
    from core.compare.results import model_pairs, per_example

    models = {m["model_id"]: m for m in db.eval_models(store, eval_id)}
    table = per_example(store, eval_id)
    sheets = []
    pairs = model_pairs(store, eval_id)
    fine_tunes_of = {b: sum(1 for _, other in pairs if other == b) for _, b in pairs}
    for a, b in pairs:
        ma, mb = models[a], models[b]
        if ma["finetuned"] and not mb["finetuned"]:
            base_name = _base_label(mb)
            # Several fine-tunes of one base: name each, or the columns could not be told apart.
            which = f" ({ma['display_name']})" if fine_tunes_of[b] > 1 else ""
            headers = [TITLE_HEADER, REFERENCE_HEADER, f"Finetuned {base_name}{which}", base_name]
            sheet = base_name + (f" {ma['display_name']}" if which else "")
        else:
            headers = [TITLE_HEADER, REFERENCE_HEADER, ma["display_name"], mb["display_name"]]
            sheet = f"{ma['display_name']} x {mb['display_name']}"
        frame = pd.DataFrame({headers[0]: table["title"], headers[1]: table["reference"],
                              headers[2]: table.get(ma["display_name"]), headers[3]: table.get(mb["display_name"])})
        sheets.append((re.sub(r"[^\w]+", "_", sheet).strip("_"), frame))
    return sheets


def _base_label(model: dict[str, Any]) -> str:
    name = str(model["display_name"])
    return re.sub(r"\s*\((bundled|base)\)$", "", name)


def _add_bar_chart(ws: Any, title: str, label_col: int, value_col: int, rows: int, anchor: str) -> None:
    from openpyxl.chart import BarChart, Reference

    if rows < 1:
        return
    chart = BarChart()
    chart.type, chart.title, chart.legend = "bar", title, None
    chart.add_data(Reference(ws, min_col=value_col, min_row=1, max_row=rows + 1), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=label_col, min_row=2, max_row=rows + 1))
    chart.height, chart.width = 7 + 0.4 * rows, 16
    ws.add_chart(chart, anchor)


def _add_loss_chart(wb: Any, loss: pd.DataFrame, taken: set[str], secrets: list[str]) -> None:
    from openpyxl.chart import LineChart, Reference

    train = loss[loss["name"] == "train_loss"]
    if train.empty:
        return
    wide = train.pivot_table(index="step", columns="run_id", values="value", aggfunc="last").reset_index()
    ws = _write_frame(wb, "loss_curves", wide, taken, secrets)
    chart = LineChart()
    chart.title, chart.y_axis.title, chart.x_axis.title = "train_loss", "loss", "step"
    chart.add_data(Reference(ws, min_col=2, max_col=len(wide.columns), min_row=1, max_row=len(wide) + 1),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=len(wide) + 1))
    chart.height, chart.width = 9, 18
    ws.add_chart(chart, f"{ws.cell(1, len(wide.columns) + 2).column_letter}2")


def _agreement_sheet(wb: Any, store: Store, taken: set[str], secrets: list[str]) -> None:
    """Which metric agrees with the people (core/compare/agreement.py; judge from cached verdicts only)."""
    from core.compare.agreement import report_for_workbook

    report = report_for_workbook(store)
    if report is None:  # no vote and no rating: nothing to agree with
        return
    _fill_agreement(wb.create_sheet(_sheet_name("agreement", taken)), report, secrets)


def _fill_agreement(ws: Any, report: Any, secrets: list[str]) -> None:
    from openpyxl.styles import Font

    from core.compare.agreement import sheet_rows

    for row in sheet_rows(report):
        ws.append([_cell(v, secrets) for v in row])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.column_dimensions["A"].width = 28


def write_agreement_xlsx(report: Any, path: str | Path) -> Path:
    """A workbook with the "agreement" sheet alone (``python -m core agreement --xlsx``)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "agreement"
    _fill_agreement(ws, report, _secret_values())
    return _save_workbook(wb, Path(path).expanduser())


def _save_workbook(wb: Any, path: Path) -> Path:
    """Written to a temporary name, then renamed: a reader never sees half a workbook."""
    tmp = path.with_name(f".{path.name}.partial")
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def latest_evaluation(store: Store) -> str | None:
    """The newest evaluation that has answers (runs first, then imports)."""
    for row in db.list_evaluations(store, "eval") + db.list_evaluations(store, "import"):
        if db.count_answers(store, row["id"]):
            return str(row["id"])
    return None


def check_report_path(path: str | Path) -> Path:
    """The workbook path, or one sentence saying why it cannot be written there."""
    path = Path(path).expanduser()
    if path.suffix.lower() != ".xlsx":
        raise ExportError(f"The report is an Excel workbook: give a file name ending in .xlsx, not {path.name!r}.")
    if not path.parent.is_dir():
        raise ExportError(f"The folder {path.parent} does not exist.")
    return path


def write_report(store: Store, path: str | Path, eval_id: str | None = None) -> Path:
    """Write the workbook for ``eval_id`` (default: the latest evaluation) plus the study-wide
    sheets (runs, loss curves, votes, curation, prices, models). Returns the path written."""
    from openpyxl import Workbook

    from core.compare import results
    path = check_report_path(path)
    eval_id = eval_id or latest_evaluation(store)
    if eval_id is not None and db.get_evaluation(store, eval_id) is None:
        raise ExportError(f"There is no evaluation {eval_id!r} to export.")
    secrets, taken = _secret_values(), set()
    wb = Workbook()
    summary = wb.active
    summary.title = _sheet_name("summary", taken)
    summary.append(["Fine-tuning comparison", datetime.now().strftime("%Y-%m-%d %H:%M")])
    if eval_id is not None:
        evaluation = db.get_evaluation(store, eval_id) or {}
        summary.append(["evaluation", eval_id])
        summary.append(["title", scrub(str(evaluation.get("title")), secrets)])
        summary.append(["status", evaluation.get("status")])
        summary.append(["config", scrub(_mask_json_text(evaluation.get("config_json")), secrets)])
        for name, frame in _pair_sheets(store, eval_id):
            _write_frame(wb, name, frame, taken, secrets)
        board = results.leaderboard(store, eval_id)
        if not board.empty:
            ws = _write_frame(wb, "leaderboard", board, taken, secrets)
            cols = list(board.columns)
            _add_bar_chart(ws, f"{board['main_metric'].iloc[0]} (mean)", cols.index("display_name") + 1,
                           cols.index("main") + 1, len(board), f"{ws.cell(1, len(cols) + 2).column_letter}2")
            _write_frame(wb, "criteria", results.criteria(store, eval_id), taken, secrets)
            _write_frame(wb, "flexibility", results.flexibility(store, eval_id), taken, secrets)
        scores = db.eval_scores_df(store, eval_id)
        if not scores.empty:
            wide = scores.pivot_table(index=["model_id", "variant", "idx"], columns="metric", values="value",
                                      aggfunc="first").reset_index()
            _write_frame(wb, "scores", wide, taken, secrets)
        answers = db.eval_answers_df(store, eval_id)
        _write_frame(wb, "answers", answers.drop(columns=["eval_id"], errors="ignore"), taken, secrets)
    _write_frame(wb, "runs", db.table_df(store, "runs").drop(columns=["events_offset"], errors="ignore"), taken, secrets)
    _add_loss_chart(wb, results.loss_curves(store), taken, secrets)
    for sheet, table in (("votes", "arena_votes"), ("curation", "curated_datasets"), ("prices", "prices"),
                         ("models", "models")):
        _write_frame(wb, sheet, db.table_df(store, table), taken, secrets)
    _agreement_sheet(wb, store, taken, secrets)
    return _save_workbook(wb, path)


# -- importing ---------------------------------------------------------------------------------------
def _norm(text: Any) -> str:
    text = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


_TITLE_NAMES = {"titulo", "title", "prompt", "titulo do livro"}
_REFERENCE_NAMES = {"descricao do dataset", "descricao", "reference", "referencia", "description", "content"}
_CHAT_REPR = re.compile(r"^\s*ChatCompletionMessage\(\s*content=(?P<lit>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")",
                        re.S)


def clean_cell(value: Any) -> str:
    """Text of a sheet cell: ``ChatCompletionMessage(content='...')`` unwrapped, JSON escapes
    (\\u00a9, \\") left by copy-pasting decoded, surrounding space trimmed."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value)
    match = _CHAT_REPR.match(text)
    if match:
        try:
            text = str(ast.literal_eval(match.group("lit")))
        except (ValueError, SyntaxError):
            text = match.group("lit")[1:-1]
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return text.replace('\\"', '"').strip()


def _read_tables(path: Path) -> dict[str, list[list[Any]]]:
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            from openpyxl import load_workbook

            wb = load_workbook(path, read_only=True, data_only=True)
            try:
                return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
            finally:
                wb.close()
        if suffix == ".ods":
            frames = pd.read_excel(path, engine="odf", header=None, sheet_name=None, dtype=object)
            return {name: frame.astype(object).where(frame.notna(), None).values.tolist() for name, frame in frames.items()}
        if suffix == ".csv":
            frame = pd.read_csv(path, header=None, dtype=object)
            return {path.stem: frame.astype(object).where(frame.notna(), None).values.tolist()}
    except (OSError, ValueError, KeyError) as exc:
        raise ImportSheetError(f"{path.name} could not be read as a spreadsheet ({type(exc).__name__}).") from None
    except Exception as exc:  # zip / XML errors of a damaged file
        raise ImportSheetError(f"{path.name} could not be read as a spreadsheet ({type(exc).__name__}).") from None
    raise ImportSheetError(f"{path.name}: import reads .xlsx, .ods or .csv files.")


def parse_seed_layout(rows: list[list[Any]]) -> tuple[list[str], list[tuple[str, str, list[str]]]] | None:
    """(model column labels, [(title, reference, answers)]) when the rows hold the seed layout
    (a header row with Titulo and Descrição do dataset, then one column per model), else None."""
    for h, header in enumerate(rows[:10]):
        names = [_norm(c) for c in header]
        if len(names) >= 3 and names[0] in _TITLE_NAMES and names[1] in _REFERENCE_NAMES:
            labels = [clean_cell(c) for c in header[2:]]
            keep = [i for i, label in enumerate(labels) if label]
            if not keep:
                return None
            body = []
            for row in rows[h + 1:]:
                row = list(row) + [None] * (len(header) - len(row))
                title = clean_cell(row[0])
                if not title:
                    continue
                body.append((title, clean_cell(row[1]), [clean_cell(row[2 + i]) for i in keep]))
            return [labels[i] for i in keep], body
    return None


def _is_seed_header(row: list[Any]) -> bool:
    return len(row) >= 3 and _norm(row[0]) in _TITLE_NAMES and _norm(row[1]) in _REFERENCE_NAMES


def _imported_model(label: str) -> dict[str, Any]:
    match = re.match(r"^\s*(?:fine[- ]?tuned|ft)[\s:_-]+(.+)$", label, re.I)
    base = match.group(1).strip() if match else label
    return {"model_id": f"imported:{label}", "display_name": label, "kind": "imported",
            "finetuned": bool(match), "base_model": base}


def import_sheet(store: Store, path: str | Path, score: bool = True) -> list[str]:
    """Import every sheet of ``path`` in the seed layout as an evaluation; returns their ids.
    Importing the same file again replaces what it imported before."""
    from core.compare.human_ratings import split_ratings, store_ratings
    from core.compare.metrics import DEFAULT_METRICS, score_answers

    path = Path(path).expanduser()
    if not path.is_file():
        raise ImportSheetError(f"{path} does not exist.")
    size = path.stat().st_size
    if size > MAX_SHEET_BYTES:  # never read a huge file into memory: no comparison sheet is this big
        raise ImportSheetError(f"{path.name} is {size / (1 << 20):,.0f} MB; a comparison sheet to import is at most "
                               f"{MAX_SHEET_BYTES >> 20} MB.")
    sha1 = hashlib.sha1()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha1.update(chunk)
    digest = sha1.hexdigest()
    # Read and score every sheet first, then write them all in one transaction: a failure anywhere
    # leaves the database as it was (an earlier import of the same file included).
    prepared = []
    for sheet, rows in _read_tables(path).items():
        # Human rating columns (Nota/Rating/Score <model>) leave the rows first: core/compare/human_ratings.py
        rows, ratings = split_ratings(path.name, sheet, rows, _is_seed_header, clean_cell)
        parsed = parse_seed_layout(rows)
        if parsed is None or not parsed[1]:
            continue
        labels, body = parsed
        eval_id = "imp-" + hashlib.sha1(f"{digest}:{sheet}".encode()).hexdigest()[:10]
        models = [_imported_model(label) for label in labels]
        details = json.dumps({"file": path.name, "sheet": sheet, "sha1": digest, "columns": labels}, ensure_ascii=False)
        answers = [{"eval_id": eval_id, "model_id": m["model_id"], "variant": "default", "idx": i, "prompt": title,
                    "reference": ref, "answer": texts[k], "error": None if texts[k] else "empty cell"}
                   for i, (title, ref, texts) in enumerate(body) for k, m in enumerate(models)]
        good = [a for a in answers if a["error"] is None]
        scores = []
        if score and good:
            values = score_answers([a["answer"] for a in good], [a["reference"] for a in good], DEFAULT_METRICS)
            scores = [(eval_id, a["model_id"], "default", a["idx"], name, value, None)
                      for a, row_scores in zip(good, values) for name, value in row_scores.items()]
        prepared.append((eval_id, sheet, details, body, models, answers, scores, ratings))
    if not prepared:
        raise ImportSheetError(
            f"No sheet of {path.name} is in the comparison layout: the first row must be "
            f"'{TITLE_HEADER} | {REFERENCE_HEADER} | <model> | ...'.")
    with store.transaction():
        for eval_id, sheet, details, body, models, answers, scores, ratings in prepared:
            db.delete_evaluation(store, eval_id)
            db.create_evaluation(store, eval_id, "import", f"{path.name} · {sheet}", details, "imported",
                                 [(i, title, ref) for i, (title, ref, _) in enumerate(body)], models)
            db.save_answers(store, answers)
            db.update_evaluation(store, eval_id, done=len(answers), total=len(answers))
            db.save_scores(store, scores)
            store_ratings(store, eval_id, path.name, sheet, ratings, {m["display_name"]: m["model_id"] for m in models})
    return [item[0] for item in prepared]
