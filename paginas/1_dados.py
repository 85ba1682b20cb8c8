"""Page 1 "Dados": curate a raw dataset with live feedback and save a versioned train/test split.

    streamlit run app.py        # the first page; opens the bundled raw sample

Top to bottom as the user sees it: the raw file (ui/dados_source.py), its columns and the filters
(ui/dados_filters.py) -> one CurationConfig -> core.data.curation (read and tokenized in background
threads, a slider change is core.data.curation.evaluate over numpy arrays) -> the counts
(ui/dados_counts.py), the funnel and histograms (ui/dados_charts.py), sample rows (ui/dados_samples.py),
saving (ui/dados_save.py). The CLI twin is ``python -m core curate`` (the page shows the exact command
for the current filters).
"""
from __future__ import annotations

import streamlit as st

from core.commands.curate import command_line
from core.config import ConfigError
from core.errors import UserFacingError
from ui.common import get_store, show_error, tr
from ui.dados_charts import draw_funnel, draw_histograms
from ui.dados_counts import draw_counts
from ui.dados_filters import draw_filters, read_config, start_with_the_notebook
from ui.dados_samples import draw_samples
from ui.dados_save import draw_save
from ui.dados_source import choose_source, curation_of, open_columns

store = get_store()
st.title(tr("dados.title"))
st.caption(tr("dados.intro", command="`python -m core curate`"))
start_with_the_notebook()

# 1. the raw file and its columns
path = choose_source(store)
stamp, columns, problem = open_columns(path)

# 2. the filters, left; everything they produce, right
left, right = st.columns([1, 2.2], gap="large")
with left:
    title_column, content_column = draw_filters(store, columns)

# stop only now: filters not drawn in a run lose their values (Streamlit drops unrendered widgets)
if problem is not None:
    with right:
        show_error(problem)
    st.stop()
if not path:
    st.stop()
try:
    config = read_config(title_column, content_column)
except ConfigError as exc:
    right.error(tr("dados.config_error", error=str(exc)))
    st.stop()

with right:
    # 3. read, count tokens, evaluate the filters
    try:
        features, result = curation_of(store, path, stamp, config, st.empty())
    except UserFacingError as exc:
        show_error(exc)
        st.stop()

    # 4. what is left: counts, funnel, histograms, sample rows
    draw_counts(result)
    draw_funnel(result.funnel)
    draw_histograms(features, result, stamp)
    draw_samples(features, result)

    # 5. save the split (or the filters), and the same curation from the command line
    draw_save(store, features, result)
    with st.expander(tr("dados.cli")):
        st.code(command_line(path, config), language="bash")
