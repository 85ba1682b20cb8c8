"""Page 5's "New evaluation" form: models, curated dataset and split, examples, prompt variants (with
how each is scored), metrics, the metric to rank by, generation limits, the optional LLM judge with
its rubric, and an OpenAI key field when an OpenAI model is chosen. "Run evaluation" builds one
EvalConfig and starts it in the background (core.compare.evaluate.start_evaluation).

    from ui.resultados_eval_form import eval_form
    eval_form(store, models)        # in paginas/5_resultados.py; the CLI twin: python -m core eval
"""
from __future__ import annotations

from functools import partial

import streamlit as st

from core.compare.evaluate import EvalConfig, start_evaluation
from core.compare.metrics import DEFAULT_METRICS, DEFAULT_RUBRIC
from core.compare.prompt_variants import VARIANTS
from core.errors import UserFacingError
from core.models.registry import BUNDLED_ID, REMOTE_KINDS
from core.selection import DEFAULT_DATASET, available_datasets
from core.store import Store
from core.store.compare import list_evaluations
from locales import t
from ui import selection
from ui.common import help_for, lang, openai_key_for, show_error, tr
from ui.core_text import metric_label
from ui.model_choice import Models, model_label

RANK_BY = ["semantic", "rougeL", "chrf", "bleu", "judge"]


def variant_label(name: str, language: str | None = None) -> str:
    """A prompt variant's name in the UI language (an unknown one, e.g. an imported sheet's, as stored)."""
    variant = VARIANTS.get(name)
    if variant is None:
        return name
    return variant.label_pt if (language or lang()) == "pt" else variant.label_en


def eval_form(store: Store, models: Models) -> None:
    """The form in an expander, open while no evaluation exists; a started run is followed below
    (``rs_eval`` in the session)."""
    language = lang()  # format_funcs are called outside the script run: they get the language fixed now
    with st.expander(tr("resultados.launch"), expanded=not list_evaluations(store)):
        if not models:
            st.info(tr("resultados.no_models"))
            return
        ids = list(models)
        # the URL's models, else the current ones (a launched run's base and, once made, its fine-tune)
        selection.start_models("rs_models", ids, [BUNDLED_ID] if BUNDLED_ID in models else ids[:1])
        chosen = st.multiselect(tr("resultados.models"), ids, key="rs_models",
                                format_func=model_label(models),
                                help=help_for(EvalConfig, "models"), on_change=selection.chosen,
                                args=("rs_models", "models"))
        left, middle, right = st.columns(3)
        sources = available_datasets(store)
        selection.start("rs_data", "dataset", sources, default=DEFAULT_DATASET)
        data = left.selectbox(tr("resultados.data"), sources, key="rs_data", help=help_for(EvalConfig, "data"),
                              on_change=selection.chosen, args=("rs_data", "dataset"))
        split = middle.selectbox(tr("resultados.split"), ["test", "train"], key="rs_split", help=help_for(EvalConfig, "split"),
                                 format_func=lambda s: t(f"formatos.split_{s}", language))
        limit = right.number_input(tr("resultados.limit"), min_value=0, value=20, step=10, key="rs_limit",
                                   help=help_for(EvalConfig, "limit"))
        variants = st.multiselect(tr("resultados.variants"), list(VARIANTS), default=["default"], key="rs_variants",
                                  format_func=lambda v: variant_label(v, language), help=help_for(EvalConfig, "variants"))
        with st.popover(tr("resultados.variant_notes")):
            for v in VARIANTS.values():
                st.markdown(f"**{variant_label(v.name, language)}** — `{v.user_template or tr('variant.as_trained')}`  \n"
                            f"{v.note_pt if language == 'pt' else v.note_en}")
        c1, c2, c3, c4 = st.columns(4)
        metric_name = partial(metric_label, language=language)
        metrics = c1.multiselect(tr("resultados.metrics"), list(DEFAULT_METRICS), default=list(DEFAULT_METRICS),
                                 key="rs_metrics", format_func=metric_name, help=help_for(EvalConfig, "metrics"))
        main = c2.selectbox(tr("resultados.main_metric"), RANK_BY, key="rs_main", format_func=metric_name,
                            help=help_for(EvalConfig, "main_metric"))
        max_new = c3.number_input(tr("resultados.max_new_tokens"), 8, 1024, 96, step=16, key="rs_max_new",
                                  help=help_for(EvalConfig, "max_new_tokens"))
        seed = c4.number_input(tr("resultados.seed"), 0, 2**31 - 1, 0, key="rs_seed", help=help_for(EvalConfig, "seed"))
        batch = c4.number_input(tr("resultados.batch_size"), 1, 256, 16, key="rs_batch",
                                help=help_for(EvalConfig, "batch_size"))
        judge_model, rubric = judge_section(models)
        kinds = [models[m]["kind"] for m in chosen + ([judge_model] if judge_model else []) if m in models]
        api_key, key_ready = openai_key_for(kinds, "rs_api_key", "resultados")
        if st.button(tr("resultados.start"), type="primary", key="rs_start", disabled=not chosen or not key_ready):
            try:
                config = EvalConfig(models=chosen, data=data, split=split, limit=int(limit) or None, seed=int(seed),
                                    variants=variants or ["default"], metrics=metrics or list(DEFAULT_METRICS),
                                    main_metric=main, max_new_tokens=int(max_new), batch_size=int(batch),
                                    judge_model=judge_model, judge_rubric=rubric)
                eval_id = start_evaluation(store, config, api_key=api_key)
            except UserFacingError as exc:
                show_error(exc)
            else:
                st.session_state["rs_eval"] = eval_id
                st.toast(tr("resultados.started", eval_id=eval_id))


def judge_section(models: Models) -> tuple[str | None, str]:
    """The optional LLM judge: a remote model and its rubric, shown and editable."""
    st.markdown(f"**{tr('resultados.judge')}**")
    on = st.toggle(tr("resultados.judge_on"), key="rs_judge_on", help=help_for(EvalConfig, "judge_model"))
    if not on:
        return None, DEFAULT_RUBRIC
    judges = [m for m, row in models.items() if row["kind"] in REMOTE_KINDS]
    if not judges:
        st.info(tr("resultados.judge_none"))
        return None, DEFAULT_RUBRIC
    judge = st.selectbox(tr("resultados.judge_model"), judges, key="rs_judge_model")
    rubric = st.text_area(tr("resultados.rubric"), DEFAULT_RUBRIC, height=260, key="rs_rubric",
                          help=help_for(EvalConfig, "judge_rubric"))
    return judge, rubric
