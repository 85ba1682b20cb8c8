"""Page 6 "Estudo": the whole study as one re-runnable recipe (TOML): download the current study's
recipe, open one (bundled or uploaded), see its steps and run it with progress in the background.

    streamlit run app.py        # then open /estudo

Thin page, read top-down as the user sees it: (a) this study as a recipe (core.study.export's
export_recipe, shown and downloadable; ui.estudo_recipe) → (b) open a recipe (dados/estudos/*.toml or
an upload, kept there) → (c) its steps as the next run takes them (core.study.runner's plan_recipe)
→ (d) Run: core.study.launch starts ``python -m core study run RECIPE --progress FILE`` in a detached
process; its progress file is read back every 1.5 s (ui.estudo_run), so a reload or a second tab
shows the same run; Stop; the summary → (e) the CLI twins: ``python -m core study run RECIPE``,
``study export --out RECIPE``, ``study diff A B``.
"""
from __future__ import annotations

import streamlit as st

from core.study import launch
from ui.common import get_store, tr
from ui.estudo_recipe import choose_recipe, export_section, open_recipe, plan_section
from ui.estudo_run import run_section

store = get_store()
st.title(tr("estudo.title"))
st.caption(tr("estudo.intro"))

# (a) what was made by clicking, as a recipe
st.subheader(tr("estudo.export.title"))
export_section(store)

# (b) the recipe to look at and run: the one running now (after a reload), else the seed study
st.subheader(tr("estudo.open.title"))
running = launch.running_studies()
path = choose_recipe(running[0].get("recipe") if running else None)
recipe = open_recipe(path) if path else None

if recipe is not None:
    # (c) its steps, as the next run would take them
    st.subheader(tr("estudo.plan.title"))
    plan_section(store, recipe, path, running=any(r.get("study") == recipe.name for r in running))

    # (d) run it in the background, with the same progress as the CLI's
    st.subheader(tr("estudo.run.title"))
    run_section(path, recipe)

# (e) the command-line twins
st.divider()
st.caption(tr("estudo.cli"))
