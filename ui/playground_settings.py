"""Page 4's generation settings form (temperature, max new tokens, top-p, seed, system prompt, user
template): shared by all columns, one per column, or the arena's. Bad values are one sentence.

    from ui.playground_settings import settings_form
    settings = settings_form("pg_shared", GenerationSettings())   # None when a value is refused
"""
from __future__ import annotations

import streamlit as st

from core.config import ConfigError
from core.models.answers import GenerationSettings
from ui.common import help_for, show_error, tr


def settings_form(prefix: str, defaults: GenerationSettings, compact: bool = False) -> GenerationSettings | None:
    """Widgets keyed ``<prefix>_<field>``; ``compact`` stacks them (a narrow column)."""
    def helped(name: str) -> dict[str, str]:
        return {"label": tr(f"playground.{name}"), "help": help_for(GenerationSettings, name),
                "key": f"{prefix}_{name}"}

    spots = [st.container() for _ in range(4)] if compact else st.columns(4)
    temperature = spots[0].slider(min_value=0.0, max_value=2.0, value=float(defaults.temperature), step=0.05,
                                  **helped("temperature"))
    max_new = spots[1].number_input(min_value=1, max_value=4096, value=defaults.max_new_tokens, step=16,
                                    **helped("max_new_tokens"))
    top_p = spots[2].slider(min_value=0.05, max_value=1.0, value=float(defaults.top_p), step=0.05, **helped("top_p"))
    seed = spots[3].number_input(min_value=0, value=defaults.seed, step=1, **helped("seed"))
    system = st.text_area(value=defaults.system_prompt or "", height=68, **helped("system_prompt"))
    template = st.text_input(value=defaults.user_template, **helped("user_template"))
    try:
        return GenerationSettings(temperature=temperature, max_new_tokens=int(max_new), top_p=top_p,
                                  system_prompt=system or None, user_template=template, seed=int(seed))
    except ConfigError as exc:
        show_error(exc)
        return None
