"""The training file of a hosted fine-tune (OpenAI, Together, Fireworks), resolved before upload.

    class OpenAIBackend(TrainingFiles): ...    # says provider_name, file_error and _validate
    train = self._check_file(cfg.training_file, "training")   # a checked JSONL path, or FileRejectedError

A curated dataset folder becomes its train split as OpenAI chat JSONL in the run folder
(``<backend name>_train.jsonl``: ``openai_train.jsonl``, ``together_train.jsonl``, ...), written
through a temporary name and a rename; an exported file lends its manifest's prompt template to the
run (the playground reuses it). What a provider accepts is its own ``_validate``. Also the polling
sleep every hosted backend shares (``_sleep``, cut short by a cancel request).
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from core.training.backends.base import RunContext


class TrainingFiles:
    """``_from_curated``, ``_check_file`` and ``_sleep``, for a backend that has ``name``, ``ctx``, ``cfg``,
    ``state`` (with ``cancel_sent``) and ``_log``."""

    name: str
    ctx: RunContext
    cfg: Any
    state: Any
    file_error: type[Exception]          # raised with one sentence when the file cannot be used

    @property
    def provider_name(self) -> str:
        """The provider as the sentences name it."""
        raise NotImplementedError

    def _log(self, level: str, message: str) -> None:
        raise NotImplementedError

    def _validate(self, path: Path, what: str) -> None:
        """Check ``path`` against the provider's rules: log the warnings, raise ``file_error`` on an error."""
        raise NotImplementedError

    def _sleep(self, seconds: float) -> None:
        """Sleep between polls in short slices, so a cancel (or pause) request is acted on quickly."""
        end = time.time() + seconds
        while time.time() < end:
            if self.ctx.cancel_requested() and not self.state.cancel_sent:
                return
            time.sleep(min(0.2, max(0.0, end - time.time())))

    def _from_curated(self, folder: Path) -> Path:
        """A curated dataset folder: its train split as OpenAI chat JSONL, written in the run folder."""
        from core.data.curated import read_split
        from core.formats.render import DEFAULT_PRESET, TemplateConfig, get_preset, to_records

        cfg = self.cfg
        template = TemplateConfig.from_dict(cfg.prompt_template) if cfg.prompt_template else get_preset(DEFAULT_PRESET)
        rows = read_split(folder, "train")
        rows = rows[: cfg.max_train_examples] if cfg.max_train_examples else rows
        out = self.ctx.run_dir / f"{self.name}_train.jsonl"
        tmp = out.with_name(f".{out.name}.tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            for record in to_records(rows, "openai-chat", template):
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        tmp.replace(out)
        # the template is registered with the models, for the playground
        cfg.format, cfg.prompt_template = "openai-chat", template.to_dict()
        self._log("info", f"Wrote {len(rows)} training examples of {folder.name} as {out.name}.")
        return out

    def _check_file(self, path_text: str | None, what: str) -> Path:
        """``path_text`` as a file the provider accepts (a curated folder written out first)."""
        if not path_text:
            raise self.file_error(f"No {what} file was given for the {self.provider_name} fine-tune.")
        path = Path(path_text)
        if what == "training" and path.is_dir():
            path = self._from_curated(path)
        elif what == "training" and self.cfg.prompt_template is None and path.is_file():
            from core.formats.export import read_export_manifest

            template = read_export_manifest(path).get("template")
            self.cfg.prompt_template = template if isinstance(template, dict) else None
        if not path.is_file():
            raise self.file_error(f"The {what} file {path} does not exist.")
        self._validate(path, what)
        return path
