"""Page 6 "Estudo": the whole study as one re-runnable recipe (TOML): download the current study's
recipe, open one (bundled or uploaded), see its steps and run it with progress in the background.

    streamlit run app.py        # then open /estudo

The CLI twins: ``python -m core study run RECIPE``, ``study export --out RECIPE``, ``study diff A B``.
"""
from __future__ import annotations

import streamlit as st

from ui.common import tr

st.title(tr("nav.estudo"))
