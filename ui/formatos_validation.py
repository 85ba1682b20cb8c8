"""Page 2's validation report: the chosen format's records checked as the trainer's reader will
(core.formats.validate: the OpenAI cookbook's checks for chat files, schema checks for the others),
against the chosen provider's rules (OpenAI, or Together / Fireworks through
core.hosted.common.provider_report: OpenAI-only rules become warnings, a format the provider does
not take is an error); the verdict in one sentence, the report's statistics, every problem with its
line, and the same check from the command line.

    validation_report(records, view)
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.formats.stats import FormatView
from core.formats.validate import ValidationReport, validate_records
from core.hosted.common import PROVIDER_FORMATS, PROVIDERS, provider_report
from locales import t, text_table
from ui.common import lang, tr
from ui.numbers import integer, num

VALIDATION_PROVIDERS = ["openai", *PROVIDERS]
_PROBLEM_COLUMNS = {"line": "col_line", "severity": "col_severity", "code": "col_code", "message": "col_message"}


def _stat(key: str, value: Any) -> str:
    label = tr("formatos.stat." + key) if "formatos.stat." + key in text_table() else key
    if isinstance(value, int) and not isinstance(value, bool):
        shown = integer(value)
    else:
        shown = num(value, 1) if isinstance(value, float) else str(value)
    return f"{label}: {shown}"


def _problems(result: ValidationReport) -> pd.DataFrame:
    table = pd.DataFrame(result.as_rows()[:1000])
    table["severity"] = [tr("formatos.severity_" + s) for s in table["severity"]]
    return table.rename(columns={c: tr("formatos." + k) for c, k in _PROBLEM_COLUMNS.items()})


def _provider_choice() -> str:
    language = lang()
    provider = st.radio(tr("formatos.provider"), VALIDATION_PROVIDERS, key="formatos_provider", horizontal=True,
                        format_func=lambda key: t(f"formatos.provider_{key}", language),
                        help=tr("formatos.provider_help"))
    if provider in PROVIDER_FORMATS:
        st.caption(tr("formatos.provider_formats", provider=tr(f"formatos.provider_{provider}"),
                      formats=", ".join(tr(f"formatos.fmt_{f}") for f in PROVIDER_FORMATS[provider])))
    return provider


def validation_report(records: list[dict[str, Any]], view: FormatView) -> None:
    provider = _provider_choice()
    model = view.openai_model if view.fmt == "openai-chat" else None
    result = validate_records(records, view.fmt, model, name=f"{view.source}:{view.split}")
    if provider != "openai":
        result = provider_report(result, provider)
    fmt_label = tr("formatos.fmt_" + view.fmt)
    if result.ok:
        st.success(tr("formatos.validation_ok", fmt=fmt_label, n=integer(result.n_examples),
                      warnings=integer(len(result.warnings))))
    else:
        st.error(tr("formatos.validation_failed", fmt=fmt_label, errors=integer(len(result.errors)),
                    warnings=integer(len(result.warnings)), n=integer(result.n_examples)))
    if result.stats:
        st.caption(" · ".join(_stat(key, value) for key, value in result.stats.items()))
    if result.problems:
        st.dataframe(_problems(result), hide_index=True, width="stretch")
    st.caption(tr("formatos.validation_cli"))
    st.code(f"python -m core validate FILE --format {view.fmt}" + (f" --model {model}" if model else "")
            + (f" --provider {provider}" if provider != "openai" else ""), language="bash")
