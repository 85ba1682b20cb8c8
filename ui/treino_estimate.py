"""Page 3's estimate before launch: time, cost, tokens to process and the speed assumed, where that
speed came from, and the estimate's notes (a retired model, OpenAI's wind-down, truncated examples)
in the page's language.

The estimate is core.training.run_data.estimate_run on the config the launch would use; it is cached
per config, and made again once another run has succeeded (its measured speed is used).

    estimate = estimate_box(store, config, runs)   # the Estimate (kept with the run at launch) or None
"""
from __future__ import annotations

import json
from typing import Any

import streamlit as st

from core.training.config import TrainConfig
from core.training.run_data import estimate_run
from ui.common import tr
from ui.core_text import estimate_note
from ui.numbers import integer
from ui.treino_runs import duration_text, source_text, usd_text

ESTIMATE_FIELDS = ("backend", "base_model", "data", "format", "template", "max_steps", "epochs", "batch_size",
                   "grad_accum", "max_seq_len", "max_train_examples", "hardware", "price_per_hour", "openai", "together",
                   "fireworks")


@st.cache_data(show_spinner=False, max_entries=32, ttl=600)
def _estimate(_store: Any, key: str) -> Any:
    values = json.loads(key)
    values.pop("_finished_runs", None)
    config = TrainConfig.from_dict(values)
    return estimate_run(_store, config.for_launch(_store))


def estimate_box(store: Any, config: TrainConfig, runs: dict[str, dict[str, Any]]) -> Any:
    """Four figures and a caption; None (said) when no speed is known for this model here."""
    fields = {name: getattr(config, name) for name in ESTIMATE_FIELDS}
    # a run that succeeded since changes the estimate (its measured speed is used): not a cached one
    fields["_finished_runs"] = sum(1 for r in runs.values() if r["status"] == "succeeded")
    key = json.dumps(fields, sort_keys=True, default=str)
    with st.spinner(tr("treino.estimating")):
        estimate = _estimate(store, key)
    cols = st.columns(4)
    if estimate is None:
        st.caption(tr("treino.no_estimate"))
        return None
    cols[0].metric(tr("treino.est_time"), duration_text(estimate.time_s))
    cols[1].metric(tr("treino.est_cost"), usd_text(estimate.total_cost_usd))
    cols[2].metric(tr("treino.est_tokens"), integer(estimate.billable_tokens))
    cols[3].metric(tr("treino.est_rate"), integer(estimate.tokens_per_s) if estimate.tokens_per_s else "-")
    st.caption(source_text(estimate.throughput_kind, estimate.throughput_source or estimate.price_source))
    # the wind-down dates are said above the OpenAI settings already; a retired model, truncated
    # examples and padding are said here, in the page's language (core gives codes and values)
    codes = getattr(estimate, "note_codes", None) or {}
    notes = [estimate_note(note, codes) for note in estimate.notes
             if (codes.get(note) or {}).get("code") not in ("jobs-end", "jobs-ended")]
    if notes:
        st.caption(" · ".join(notes))
    return estimate
