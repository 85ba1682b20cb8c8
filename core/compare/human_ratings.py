"""Human ratings in imported comparison sheets: columns named ``Nota <model>``, ``Rating <model>``
or ``Score <model>`` (any case) beside the seed layout's answer columns hold a person's number for
that model's answer in that row. ``python -m core import FILE`` (core/compare/xlsx.py import_sheet)
takes them out of the sheet before reading the answers, and stores them in human_ratings; the
agreement (core/compare/agreement.py) turns every two rated answers of a row into a human pair
(the higher rating wins; equal ratings are a tie). A sheet without such columns imports as before.

    Titulo | Descrição do dataset | Finetuned Llama | Llama | Nota Finetuned Llama | Nota Llama
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from core.errors import UserFacingError

if TYPE_CHECKING:
    from core.store import Store

RATING_COLUMN = re.compile(r"^\s*(?:nota|rating|score)\s*[:\-–]?\s+(?P<model>\S.*?)\s*$", re.I)


class RatingImportError(UserFacingError):
    """A rating column that cannot be read (a text in it, or no answer column of that model)."""


def _key(label: str) -> str:
    return re.sub(r"\s+", " ", label).strip().casefold()


def _letter(col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _number(value: Any) -> float | None:
    """The rating in a cell: None when empty; ValueError for text that is not a number."""
    if value is None or isinstance(value, bool):
        if isinstance(value, bool):
            raise ValueError(value)
        return None
    if isinstance(value, (int, float)):
        return None if isinstance(value, float) and math.isnan(value) else float(value)
    text = str(value).strip()
    if not text:
        return None
    number = float(text.replace(",", "."))
    if math.isnan(number) or math.isinf(number):
        raise ValueError(text)
    return number


def split_ratings(file_name: str, sheet: str, rows: list[list[Any]], is_header: Callable[[list[Any]], bool],
                  title_of: Callable[[Any], str]) -> tuple[list[list[Any]], list[dict[str, Any]]]:
    """(the rows without their rating columns, the ratings) of one sheet. Each rating is
    {idx (the example: rows with a title, counted from 0), label (the answer column it rates),
    rating, sheet_row (1-based, as a spreadsheet shows it), column_name}."""
    found = next((h for h, row in enumerate(rows[:10]) if is_header(list(row))), None)
    if found is None:
        return rows, []
    header = [title_of(c) for c in rows[found]]
    rating_cols = {c: m.group("model") for c, name in enumerate(header)
                   if c >= 2 and (m := RATING_COLUMN.match(name))}
    if not rating_cols:
        return rows, []
    answers = {_key(name): name for c, name in enumerate(header) if c >= 2 and c not in rating_cols and name}
    for col, model in rating_cols.items():
        if _key(model) not in answers:
            raise RatingImportError(
                f"{file_name}, sheet '{sheet}': the rating column '{header[col]}' ({_letter(col)}) names no answer "
                f"column; answer columns are {', '.join(repr(a) for a in answers.values()) or 'none'}.")
    width = len(header)
    kept = [c for c in range(width) if c not in rating_cols]
    out: list[list[Any]] = []
    ratings: list[dict[str, Any]] = []
    idx = -1
    for r, row in enumerate(rows):
        row = list(row) + [None] * (width - len(row))
        out.append([row[c] for c in kept] + row[width:])
        if r <= found or not title_of(row[0]):
            continue
        idx += 1
        for col, model in rating_cols.items():
            try:
                value = _number(row[col])
            except ValueError:
                raise RatingImportError(
                    f"{file_name}, sheet '{sheet}', row {r + 1}, column '{header[col]}' ({_letter(col)}): "
                    f"the rating {str(row[col])[:40]!r} is not a number.") from None
            if value is not None:
                ratings.append({"idx": idx, "label": answers[_key(model)], "rating": value, "sheet_row": r + 1,
                                "column_name": header[col]})
    return out, ratings


def store_ratings(store: Store, eval_id: str, file_name: str, sheet: str, ratings: Sequence[dict[str, Any]],
                  model_ids: dict[str, str]) -> None:
    """Save one imported sheet's ratings (replacing an earlier import's), answers named by model id."""
    from core.store.ratings import replace_ratings

    rows = [{"model_id": model_ids[r["label"]], "idx": r["idx"], "rating": r["rating"], "source_file": file_name,
             "sheet": sheet, "sheet_row": r["sheet_row"], "column_name": r["column_name"]}
            for r in ratings if r["label"] in model_ids]
    replace_ratings(store, eval_id, rows)
