"""Export a curated split as a training file of one format, with a manifest beside it (template,
counts, token statistics, sha256), written under a temporary name and renamed.

    from core.formats.export import export_training_file, default_export_path
    result = export_training_file(rows, "openai-chat", TemplateConfig(), default_export_path("seed-study", "openai-chat"))

CLI twin: ``python -m core export SOURCE --format F --out FILE``; page 2's export button.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.formats.render import (
    COMPLETION_SEPARATOR,
    DEFAULT_LOCAL_MODEL,
    DEFAULT_OPENAI_ENCODING,
    OPENAI_FORMATS,
    FormatError,
    TemplateConfig,
    check_format,
    ends_with_own_separator,
    format_tokenizer,
    response_template,
    to_records,
)
from core.formats.stats import format_stats
from core.study import lineage


@dataclass
class ExportResult:
    path: Path
    manifest_path: Path
    manifest: dict[str, Any]


def manifest_path_for(path: str | Path) -> Path:
    """``x.jsonl`` -> ``x.manifest.json`` (beside it)."""
    path = Path(path)
    return path.with_name(path.name.rsplit(".", 1)[0] + ".manifest.json")


def export_file_name(source_name: str, fmt: str, split: str = "train") -> str:
    slug = re.sub(r"[^A-Za-z0-9._@-]+", "-", source_name).strip("-.") or "dataset"
    return f"{slug}_{fmt}_{split}.jsonl"


def default_export_path(source_name: str, fmt: str, split: str = "train") -> Path:
    from core.paths import data_dir

    return data_dir() / "export" / export_file_name(source_name, fmt, split)


def read_export_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest written beside an exported file ({} when there is none)."""
    target = manifest_path_for(path)
    try:
        return json.loads(target.read_text(encoding="utf-8")) if target.is_file() else {}
    except json.JSONDecodeError:
        return {}


def export_training_file(rows: Sequence[dict[str, Any]], fmt: str, template: TemplateConfig, out: str | Path, *,
                         tokenizer_spec: str | None = None, source: str = "", split: str = "train",
                         openai_encoding: str = DEFAULT_OPENAI_ENCODING) -> ExportResult:
    """Write ``rows`` as a JSONL file of ``fmt`` plus a manifest (template, counts, tokens, sha256).

    Both files are written under a temporary name and renamed, so a failure never leaves half a file.
    """
    check_format(fmt)
    if not rows:
        raise FormatError("There are no rows to export.")
    local = tokenizer_spec or DEFAULT_LOCAL_MODEL
    records = to_records(rows, fmt, template, local)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    stats = format_stats(rows, fmt, template, local, openai_encoding)
    manifest = {
        "file": out.name, "format": fmt, "source": source, "split": split, "template": template.to_dict(),
        # How trainers of the field read the file: TRL's SFTTrainer takes "text" as language modeling
        # data, "prompt" + "completion" as prompt-completion data, "messages" / "conversations" as chat.
        "columns": sorted(records[0]),
        "tokenizer": stats.tokenizer, "local_model": local if fmt not in OPENAI_FORMATS else None,
        "examples": len(records), "tokens": {k: v for k, v in stats.as_row().items() if k not in ("format", "tokenizer")},
        "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    # the recipe step (if any) and the source dataset's fingerprints, for `study diff` and `study export`
    manifest["lineage"] = lineage.record(lineage.export_inputs(source, fmt, split, template.to_dict(), local))
    if fmt == "chat-template":
        # where each answer starts in "text" (completion-only loss; TRL's older
        # DataCollatorForCompletionOnlyLM and Unsloth's train_on_responses_only take this string)
        manifest["response_template"] = response_template(format_tokenizer(local))
    if fmt == "completion":
        manifest["separator"] = "" if ends_with_own_separator(template.user_template) else COMPLETION_SEPARATOR
    manifest_path = manifest_path_for(out)
    for target, data in ((out, body), (manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False).encode())):
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return ExportResult(path=out, manifest_path=manifest_path, manifest=manifest)
