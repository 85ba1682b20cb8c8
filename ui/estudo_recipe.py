"""Page 6's recipe pieces: the current study as a recipe (shown and downloadable), the recipe to open
(bundled, uploaded before, or uploaded now) and its steps as the next run would take them.

    export_section(store)                 # (a) export_recipe -> st.code + download <dataset>-study.toml
    path = choose_recipe(default)         # (b) selectbox of dados/estudos/*.toml + upload
    recipe = open_recipe(path)            #     None after showing the recipe's one-sentence error
    plan_section(store, recipe, path)     # (c) plan_recipe as a table, the raw TOML in an expander
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from core.errors import UserFacingError
from core.paths import PROJECT_ROOT
from core.selection import get_current
from core.store import Store
from core.study import launch
from ui.common import show_error, tr

K = "estudo_"
UPLOAD_ERROR = "_estudo_upload_error"
UPLOAD_SAVED = "_estudo_upload_saved"


# -- (a) this study as a recipe ------------------------------------------------------------------------
def export_section(store: Store) -> None:
    from core.study.export import NothingToExportError, export_recipe

    try:
        text = export_recipe(store, recipe_dir=launch.user_recipes_dir())  # where an upload of it will land
    except NothingToExportError:
        st.info(tr("estudo.export.nothing"))
        return
    except UserFacingError as exc:
        show_error(exc)
        return
    dataset = str(tomllib.loads(text).get("curation", {}).get("name") or "study")
    st.caption(tr("estudo.export.help", dataset=get_current(store, "dataset") or dataset))
    st.download_button(tr("estudo.export.download"), data=text.encode("utf-8"), file_name=f"{dataset}-study.toml",
                       mime="application/toml", key=f"{K}download", icon=":material/download:")
    with st.expander(tr("estudo.export.show", lines=len(text.splitlines())), expanded=True):
        st.code(text, language="toml", height=320)


# -- (b) open a recipe ---------------------------------------------------------------------------------
def _label(path: str) -> str:
    file = Path(path)
    if file.parent.resolve() == launch.bundled_recipes_dir().resolve():
        return tr("estudo.open.bundled", name=file.name)
    if file.parent.resolve() == launch.user_recipes_dir().resolve():
        return tr("estudo.open.uploaded", name=file.name)
    return tr("estudo.open.other", name=file.name, folder=_shown(file.parent))


def _shown(path: Path) -> str:
    """A path as the person knows it: relative to the project when inside it."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _on_upload() -> None:
    """Keep the uploaded recipe (checked first) and open it; a bad one is told in one sentence."""
    state = st.session_state
    state.pop(UPLOAD_ERROR, None)
    state.pop(UPLOAD_SAVED, None)
    upload = state.get(f"{K}upload")
    if upload is None:
        return
    try:
        path = launch.save_recipe_upload(upload.name, upload.getvalue())
    except UserFacingError as exc:
        state[UPLOAD_ERROR] = exc
        return
    state[f"{K}recipe"] = str(path)
    state[UPLOAD_SAVED] = str(path)


def choose_recipe(default: str | None) -> str | None:
    """The recipe file the page shows: the choice kept in the selectbox, else ``default`` (the study
    running now), else the bundled seed study, else the first one."""
    options = [str(p) for p in launch.list_recipes()]
    if default and default not in options and Path(default).is_file():
        options.append(default)
    state = st.session_state
    if state.get(f"{K}recipe") not in options:
        seed = next((o for o in options if Path(o).name == "seed-study.toml"), None)
        state[f"{K}recipe"] = default if default in options else (seed or (options[0] if options else None))
    if options:
        chosen = st.selectbox(tr("estudo.open.recipe"), options, key=f"{K}recipe", format_func=_label)
    else:
        st.info(tr("estudo.open.none"))
        chosen = None
    st.file_uploader(tr("estudo.open.upload"), type=["toml"], key=f"{K}upload", on_change=_on_upload,
                     help=tr("estudo.open.upload_help"))
    if state.get(UPLOAD_ERROR) is not None:
        show_error(state[UPLOAD_ERROR])
    elif state.get(UPLOAD_SAVED):
        st.caption(tr("estudo.open.saved", path=_shown(Path(state[UPLOAD_SAVED]))))
    return chosen


def open_recipe(path: str) -> Any | None:
    """The recipe, or None after showing its one sentence (key and line) as an error."""
    from core.study.recipe import load_recipe

    try:
        return load_recipe(path)
    except UserFacingError as exc:
        show_error(exc)
        return None


# -- (c) its steps -------------------------------------------------------------------------------------
def reason_text(row: dict[str, Any]) -> str:
    """A plan row's reason in the page's language (core's sentence when it has no fixed code)."""
    return tr(f"estudo.why.{row['why']}", **row.get("values", {})) if row.get("why") else str(row.get("reason") or "")


def _what(kind: str) -> str:
    text = tr(f"estudo.kind.{kind}")
    return kind if text == f"estudo.kind.{kind}" else text


def plan_section(store: Store, recipe: Any, path: str, running: bool = False) -> list[dict[str, Any]]:
    """The steps as the next run would take them (reuse, run, skip and why); returns the plan. While
    the study runs, the plan would describe a moment of the run: the run's own step list says more."""
    from core.study.runner import plan_recipe

    st.markdown(tr("estudo.open.about", title=recipe.study.title or recipe.name, name=recipe.name,
                   path=_shown(Path(path))))
    plan: list[dict[str, Any]] = []
    if running:
        st.caption(tr("estudo.plan.while_running"))
    else:
        try:
            plan = plan_recipe(store, recipe)
        except UserFacingError as exc:
            show_error(exc)
    if plan:
        table = pd.DataFrame({
            tr("estudo.plan.step"): [p["step"] for p in plan],
            tr("estudo.plan.what"): [_what(str(p.get("kind") or p["step"].split(":")[0])) for p in plan],
            tr("estudo.plan.state"): [tr(f"estudo.state.{p.get('state')}") for p in plan],
            tr("estudo.plan.reason"): [reason_text(p) for p in plan],
        })
        st.table(table.style.hide(axis="index"))   # a few rows; whole sentences wrap (a grid would cut them)
        count = {s: sum(p.get("state") == s for p in plan) for s in ("run", "reuse", "skip")}
        st.caption(tr("estudo.plan.counts", **count))
    with st.expander(tr("estudo.plan.raw")):
        st.code(Path(path).read_text(encoding="utf-8"), language="toml")
    return plan
