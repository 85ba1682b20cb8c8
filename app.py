"""The fine-tuning comparison dashboard (Streamlit).

    streamlit run app.py

st.navigation over the pages in paginas/ (one per step of the journey, then the whole study as
a re-runnable recipe), plus a shared
sidebar with the language switch and the database status. Pages are thin: they read widgets,
build one config object, call core/, and draw the result.

The folder is paginas/, not pages/: Streamlit treats a pages/ folder beside the entry point as its
older multipage layout, and a first visit to a deep link such as /treino then skips this file.
"""
from __future__ import annotations

import os

import streamlit as st

from core.training.jobs import start_supervisor
from locales import LANGUAGES
from ui.common import get_store, lang, remember_language, tr

st.set_page_config(page_title="Fine-tuning dashboard", page_icon=":material/tune:", layout="wide")

with st.sidebar:
    language = lang()  # decided before the widget reads it: ?lang=, the stored choice, the browser, English
    if st.query_params.get("lang") != language:
        st.query_params["lang"] = language  # a reload keeps it (page links drop the URL's parameters)
    st.selectbox(tr("app.language"), list(LANGUAGES), format_func=LANGUAGES.get, key="lang",
                 on_change=lambda: remember_language(st.session_state["lang"]))
    store = get_store()
    start_supervisor(store)  # training runs are found again (or marked lost) as soon as the app starts
    size = os.path.getsize(store.path) if os.path.exists(store.path) else 0
    st.caption(f"**{tr('app.db_status')}**: " + tr(
        "app.db_ok", path=os.path.relpath(store.path), size=f"{size / 1e6:.1f} MB",
        migrations=len(store.applied_migrations()),
    ))

PAGES = [
    st.Page("paginas/1_dados.py", title=tr("nav.dados"), icon=":material/dataset:", url_path="dados", default=True),
    st.Page("paginas/2_formatos.py", title=tr("nav.formatos"), icon=":material/data_object:", url_path="formatos"),
    st.Page("paginas/3_treino.py", title=tr("nav.treino"), icon=":material/model_training:", url_path="treino"),
    st.Page("paginas/4_playground.py", title=tr("nav.playground"), icon=":material/forum:", url_path="playground"),
    st.Page("paginas/5_resultados.py", title=tr("nav.resultados"), icon=":material/leaderboard:", url_path="resultados"),
    st.Page("paginas/6_estudo.py", title=tr("nav.estudo"), icon=":material/receipt_long:", url_path="estudo"),
]
st.navigation(PAGES).run()
