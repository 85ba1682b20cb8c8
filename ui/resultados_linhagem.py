"""Page 5's tab "Lineage": two runs side by side, what differs between them (data, curation, format,
base model, hyperparameters), with a toggle to show every compared value; and, in an expander per
run, what it was made from: the recipe step (or "made by clicking") and its inputs' fingerprints.

    from ui.resultados_linhagem import lineage_tab
    lineage_tab(store, "pt")          # inside page 5's tab; streamlit run app.py, then /resultados

The values come from core.study.diff (what each run recorded at launch, core/study/lineage.py); the
CLI twin is ``python -m core study diff RUN_A RUN_B [--all]``, which also takes two recipe files.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from core.errors import UserFacingError
from core.selection import get_current
from core.store import Store
from core.store.compare import list_models
from core.store.runs import list_runs
from core.study.diff import DiffRow, diff_targets, show_value
from core.study.lineage import lineage_of
from locales import numbers, t, text_table
from ui.common import show_error

K = "linhagem."
DIFF_COLOR = "background-color: rgba(255, 196, 0, 0.18)"


def _label(key: str, language: str, prefix: str) -> str:
    """A section's or data key's words in the language; config field names stay as the code writes them."""
    name = prefix + key.replace(" ", "_").replace(".", "_")
    return t(name, language) if name in text_table() else key


def run_labeller(store: Store, runs: dict[str, dict[str, Any]]) -> Any:
    """A run's label: its id, the fine-tune's name when it has its own (a hosted model id), else the
    backend and base model, and the dataset it trained on."""
    made = {m["run_id"]: m["display_name"] for m in list_models(store, include_retired=True)
            if m.get("run_id") and "@" not in str(m["id"])}  # checkpoints carry @step in their id

    def label(run_id: str) -> str:
        run = runs.get(run_id) or {}
        name = made.get(run_id) or ""
        if not name or run_id in name:  # a local fine-tune is named after its run: say what it trained
            name = f"{run.get('backend', '')} · {Path(str(run.get('base_model') or '')).name}"
        data = f"{run['curated_name']}@v{run['curated_version']}" if run.get("curated_version") else \
            (run.get("curated_name") or "")
        return " · ".join(p for p in (run_id, name, data) if p)
    return label


def summary_text(rows: list[DiffRow], language: str) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        if not row.same:
            counts[row.section] = counts.get(row.section, 0) + 1
    if not counts:
        return t(K + "no_differences", language, n=numbers.integer(len(rows), lang=language))
    parts = ", ".join(f"{_label(s, language, K + 'section.')} {numbers.integer(n, lang=language)}"
                      for s, n in counts.items())
    total = sum(counts.values())
    if total == 1:
        return t(K + "summary_one", language, parts=parts)
    return t(K + "summary", language, n=numbers.integer(total, lang=language), parts=parts)


def diff_frame(rows: list[DiffRow], language: str, show_all: bool) -> pd.DataFrame:
    """The side-by-side table: section, key, A, B (text cells, as the CLI prints them) and whether they differ."""
    shown = [r for r in rows if show_all or not r.same]
    return pd.DataFrame({
        t(K + "col.section", language): [_label(r.section, language, K + "section.") for r in shown],
        t(K + "col.key", language): [_label(r.key, language, K + "key.") for r in shown],
        "A": [show_value(r.a, 60) for r in shown],
        "B": [show_value(r.b, 60) for r in shown],
        "differs": [not r.same for r in shown],
    })


def _draw_table(frame: pd.DataFrame) -> None:
    differs = frame.pop("differs")
    styler = frame.style.apply(lambda row: [DIFF_COLOR if differs[row.name] else ""] * len(row), axis=1)
    st.dataframe(styler, hide_index=True, width="stretch", key="lin_table")


def lineage_facts(run: dict[str, Any], language: str) -> tuple[str, pd.DataFrame]:
    """(how the run was made, its inputs' fingerprints as a two-column table)."""
    recorded = lineage_of(run)
    if not recorded:
        return t(K + "no_lineage", language), pd.DataFrame()
    made = (t(K + "made_in_step", language, study=recorded["study"], step=recorded["step"],
              sha=recorded.get("recipe_sha") or "—")
            if recorded.get("study") else t(K + "made_by_clicking", language))
    inputs = recorded.get("inputs") or {}
    data = inputs.get("data") or {}
    curated = (data.get("source") or {}) if data.get("kind") == "file" else data
    facts = [("dataset", curated.get("dataset")), ("raw_file", curated.get("input_path")),
             ("raw_fingerprint", curated.get("input_fingerprint")), ("curation_sha", curated.get("curation_sha")),
             ("train_sha", curated.get("train_sha256")), ("test_sha", curated.get("test_sha256"))]
    if data.get("kind") == "file":
        facts += [("training_file", data.get("file")), ("training_file_sha", data.get("file_sha256"))]
    facts += [("format", inputs.get("format")), ("template_sha", inputs.get("template_sha")),
              ("base_model", f"{inputs.get('backend')} · {inputs.get('base_model')}"),
              ("hyperparameters_sha", inputs.get("hyperparameters_sha"))]
    frame = pd.DataFrame({t(K + "col.input", language): [t(K + "fact." + k, language) for k, _ in facts],
                          t(K + "col.value", language): [show_value(v, 70) for _, v in facts]})
    return made, frame


def lineage_tab(store: Store, language: str) -> None:
    """Draw the tab: the two runs' pickers, the table of what differs, each run's lineage."""
    st.caption(t(K + "intro", language))
    runs = {r["id"]: r for r in list_runs(store)}
    if len(runs) < 2:
        st.info(t(K + "need_two", language, n=numbers.integer(len(runs), lang=language)))
        return
    ids = list(runs)  # newest first
    current = get_current(store, "run")
    b_default = ids.index(current) if current in runs else 0
    a_default = 1 if b_default == 0 else 0
    label = run_labeller(store, runs)
    left, right = st.columns(2)
    a = left.selectbox(t(K + "run_a", language), ids, index=a_default, format_func=label, key="lin_a")
    b = right.selectbox(t(K + "run_b", language), ids, index=b_default, format_func=label, key="lin_b")
    show_all = st.toggle(t(K + "show_all", language), key="lin_all")
    try:
        rows = diff_targets(store, a, b)
    except UserFacingError as exc:
        show_error(exc)
        return
    st.markdown(f"**{summary_text(rows, language)}**")
    if a == b:
        st.info(t(K + "same_run", language))
    frame = diff_frame(rows, language, show_all)
    if not frame.empty:
        _draw_table(frame)
    for side, run_id in (("A", a), ("B", b)):
        with st.expander(t(K + "lineage_of", language, side=side, run=run_id)):
            made, facts = lineage_facts(runs[run_id], language)
            st.caption(made)
            if not facts.empty:
                st.dataframe(facts, hide_index=True, width="stretch", key=f"lin_facts_{side}")
    st.caption(t(K + "cli", language))
    st.code(f"python -m core study diff {a} {b} --all", language="bash")
