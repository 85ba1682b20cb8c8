"""What core/ hands the pages as English text, said in the session's language: an estimate's
speed source, summary and notes, metric names. Core keeps its English (the CLI, logs and stored
rows use it) and never imports locales; these functions recognise its fixed shapes and fall back
to the original text for anything they do not know.

    st.caption(tr("treino.est_source", source=throughput_source(estimate.throughput_source)))
    st.code(estimate_summary(estimate), language=None)
"""
from __future__ import annotations

import re
from typing import Any

from locales import t
from ui.common import lang
from ui.numbers import duration, integer, num, percent, usd

_HARDWARE = re.compile(r"^hardware table: (?P<name>.+?)(?:, scaled from (?P<a>[\d.]+)B to (?P<b>[\d.]+)B parameters)?"
                       r"(?P<rough> \(rough across this gap: .*\))?$")
_CALIBRATION = re.compile(r"^calibration on (?P<device>.+) \(seq_len (?P<seq>\d+), batch (?P<batch>\d+)\)$")
_PAST_RUNS = re.compile(r"^(?P<runs>\d+) earlier runs? of (?P<model>.+) on (?P<device>.+): "
                        r"median (?P<rate>[\d,]+) tokens/s$")   # core/training/run_data.py
_SEED_PACE = re.compile(r"^pace of the seed study's job: (?P<tokens>[\d,]+) tokens in ~27 min$")
_PADDING = re.compile(r"^padding to the longest example of each batch adds (?P<tokens>[\d,]+) tokens per epoch "
                      r"\((?P<pct>\d+)%\)\.$")
_TRUNCATED = re.compile(r"^(?P<n>\d+) examples exceed (?P<limit>[\d,]+) tokens and are billed \(and trained\) truncated\.$")


def _tr(key: str, **values: Any) -> str:
    return t(key, lang(), **values)


def _int(text: str) -> str:
    return integer(int(text.replace(",", "")))


def throughput_source(source: str | None) -> str:
    """core.costs.estimates' speed source ('given', 'hardware table: ...', 'calibration on ...')."""
    text = (source or "").strip()
    if not text:
        return "-"
    if text == "given":
        return _tr("source.given")
    if match := _HARDWARE.match(text):
        out = _tr("source.hardware", name=match["name"])
        if match["a"]:
            out += _tr("source.scaled", size_from=num(float(match["a"]), 3 if "." in match["a"] else 0),
                       size_to=num(float(match["b"]), 3 if "." in match["b"] else 0))
        return out + (_tr("source.rough") if match["rough"] else "")
    if match := _CALIBRATION.match(text):
        return _tr("source.calibration", device=match["device"], seq_len=_int(match["seq"]), batch=match["batch"])
    if match := _PAST_RUNS.match(text):
        return _tr("treino.source_past_runs", runs=_int(match["runs"]), model=match["model"], device=match["device"],
                   rate=_int(match["rate"]))
    if match := _SEED_PACE.match(text):
        return _tr("source.seed_pace", tokens=_int(match["tokens"]))
    return text


def estimate_note(note: str, codes: dict[str, dict[str, Any]] | None = None) -> str:
    """One note of an estimate: worded from its code and values (``Estimate.note_codes``), else
    recognised by its English shape (estimates kept before notes had codes), else as it is."""
    coded = (codes or {}).get(note)
    if coded and (text := _coded_note(coded)):
        return text
    if match := _PADDING.match(note):
        return _tr("estimate.padding", tokens=_int(match["tokens"]), pct=f"{match['pct']}%")
    if match := _TRUNCATED.match(note):
        return _tr("estimate.truncated", n=_int(match["n"]), limit=_int(match["limit"]))
    return note


def _coded_note(coded: dict[str, Any]) -> str | None:
    code = coded.get("code")
    if code == "retired":
        if coded.get("shutdown"):
            return _tr("estimate.retired_on", model=coded["model"], date=coded["shutdown"])
        return _tr("estimate.retired", model=coded["model"])
    if code in ("jobs-end", "jobs-ended"):
        return _tr(f"estimate.{code.replace('-', '_')}", date=coded["date"])
    if code == "truncated":
        return _tr("estimate.truncated", n=integer(coded["n"]), limit=integer(coded["limit"]))
    if code == "padding":
        return _tr("estimate.padding", tokens=integer(coded["tokens"]), pct=percent(coded["pct"]))
    if code == "scaled":
        return _tr("estimate.scaled", n=integer(coded["n"]), factor=num(coded["factor"], 2))
    return None


def estimate_summary(est: Any) -> str:
    """core.costs.estimates.Estimate.summary() in the UI language, line for line."""
    lines = [_tr("estimate.head", kind=_tr(f"estimate.kind_{est.kind}"), model=est.model, format=est.format,
                 n=integer(est.n_examples)),
             _tr("estimate.epochs", epochs=est.epochs), _tr("estimate.per_epoch", tokens=integer(est.tokens_per_epoch))]
    if est.kind == "openai":
        lines.append(_tr("estimate.billable", tokens=integer(est.billable_tokens)))
        if est.limit:
            lines.append(_tr("estimate.over_limit", limit=integer(est.limit), n=integer(est.n_over_limit)))
        lines.append(_tr("estimate.train_cost", cost=usd(est.train_cost_usd)))
        if est.inference_examples:
            lines.append(_tr("estimate.inference", n=integer(est.inference_examples),
                             tin=integer(est.inference_input_tokens), tout=integer(est.inference_output_tokens),
                             cost=usd(est.inference_cost_usd)))
        lines.append(_tr("estimate.total", cost=usd(est.total_cost_usd)))
        lines.append(_tr("estimate.prices", date=est.price_as_of or "?",
                         source=est.price_source or _tr("estimate.no_source")))
    else:
        lines.append(_tr("estimate.processed", tokens=integer(est.billable_tokens)))
        if est.limit:
            lines.append(_tr("estimate.over_seq", limit=integer(est.limit), n=integer(est.n_over_limit)))
        lines.append(_tr("estimate.throughput", rate=num(est.tokens_per_s, 1), source=throughput_source(est.throughput_source))
                     if est.tokens_per_s else _tr("estimate.no_throughput"))
        if est.usd_per_hour is not None:
            lines.append(_tr("estimate.hourly", price=usd(est.usd_per_hour), cost=usd(est.total_cost_usd)))
    if est.time_s is not None:
        lines.append(_tr("estimate.time", time=duration(est.time_s))
                     + (f" ({throughput_source(est.throughput_source)})" if est.kind == "openai" else ""))
    lines.extend(_tr("estimate.note", note=estimate_note(n, getattr(est, "note_codes", None))) for n in est.notes)
    return "\n".join(lines)


def metric_label(name: str, language: str | None = None) -> str:
    """A metric's name as shown (core.compare.results.METRIC_LABELS' English, translated). Pass the
    language when this is a format_func: Streamlit and AppTest may call it outside the script run."""
    key = f"metric.{name}"
    text = t(key, language or lang())
    return name if text == key else text
